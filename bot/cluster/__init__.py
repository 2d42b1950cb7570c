"""Scale-out on one machine: ``bot1999 run-cluster`` (docs/deployment.md, "Scale-out").

``plan`` turns the settings into the processes (replicas of the action server, Rasa and the
bot) and Rasa's endpoints (SQL tracker store, Redis lock store); ``database`` creates the
shared PostgreSQL database; ``balancer`` is the small HTTP load balancer in front of the bots;
``run`` starts it all.
"""
