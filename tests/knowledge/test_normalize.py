from knowledge.normalize import clean_text, fold, question_key, to_traditional


def test_simplified_becomes_traditional_with_taiwanese_words() -> None:
    assert to_traditional("软件怎么下载") == "軟體怎麼下載"


def test_fold_makes_full_width_half_width_and_lower_case() -> None:
    assert fold("ＡＢＣ１２３") == "abc123"


def test_question_key_ignores_punctuation_spacing_width_and_script() -> None:
    assert question_key("大型垃圾要怎麼清運？") == question_key(" 大型垃圾 要怎么清运?")
    assert question_key("ＡＴＭ在哪裡") == question_key("atm在哪裡!")
    assert question_key("大型垃圾") != question_key("小型垃圾")


def test_clean_text_drops_control_and_zero_width_characters() -> None:
    assert clean_text("a\u0000b\u200bc\ufeff") == "abc"
