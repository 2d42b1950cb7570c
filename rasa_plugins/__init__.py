"""Classes Rasa loads by module path from endpoints files (they run in ``.venv-rasa``, Rasa 3.6)."""
