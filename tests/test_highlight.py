"""Highlights mark what the contract's word rule matched: exact words, typos within the
budget, the last word as a prefix; everything else HTML-escaped."""

from __future__ import annotations

from service.search.highlight import EXCERPT_CHARS, WordMatcher, excerpt, mark


def test_marks_exact_typo_and_prefix_matches_and_escapes_the_rest() -> None:
    matcher = WordMatcher.for_query("walet sadd")
    assert mark(matcher, "Leather_Wallet <b>saddle</b>.pdf") == (
        "Leather_<mark>Wallet</mark> &lt;b&gt;<mark>saddle</mark>&lt;/b&gt;.pdf"
    )


def test_a_word_beyond_its_typo_budget_or_a_prefix_of_an_earlier_word_is_not_marked() -> None:
    matcher = WordMatcher.for_query("belt strap")
    # "belts" is a prefix match only for the last word; "belt" has no typo budget (4 letters).
    assert mark(matcher, "belts bolt strapping") == "belts bolt <mark>strapping</mark>"
    assert mark(matcher, "nothing here") is None


def test_an_excerpt_is_short_centred_on_the_densest_match_and_cut_with_ellipses() -> None:
    text = "lorem ipsum " * 300 + "the brown wallet for a saddle maker " + "dolor sit " * 300
    found = excerpt(WordMatcher.for_query("wallet saddle"), text)
    assert found is not None
    assert found.startswith("…") and found.endswith("…")
    plain = found.replace("<mark>", "").replace("</mark>", "").strip("…")
    assert len(plain) <= EXCERPT_CHARS
    assert "<mark>wallet</mark> for a <mark>saddle</mark>" in found


def test_an_excerpt_of_a_short_text_is_the_whole_text_without_ellipses() -> None:
    found = excerpt(WordMatcher.for_query("burnisher"), "Wood burnisher, 3 sizes & <cheap>")
    assert found == "Wood <mark>burnisher</mark>, 3 sizes &amp; &lt;cheap&gt;"


def test_no_match_gives_no_excerpt_and_no_query_words_match_nothing() -> None:
    assert excerpt(WordMatcher.for_query("zzz"), "a text about leather") is None
    assert not WordMatcher.for_query("!!")
