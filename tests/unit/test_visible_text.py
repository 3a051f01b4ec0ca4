"""services/visible_text.py: which characters count as unseen in names and addresses."""

from infer0app.services.visible_text import has_unseen


def test_visible_text_passes():
    for text in ("App", "Café Olé", "Zürich 東京 ✉", "a b", "~!@#$%^&*()", ""):
        assert not has_unseen(text), text


def test_unseen_characters_are_found():
    for text in ("a\x00b", "tab\t", "del\x7f", "c1\x85", "Good\u202eliaM", "\u2066x\u2069", "zw\u200bsp",
                 "bom\ufeff", "line\u2028sep", "para\u2029", "rtl\u200fmark", "\ue000private", "lone\ud800"):
        assert has_unseen(text), repr(text)
