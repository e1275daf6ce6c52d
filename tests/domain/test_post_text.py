"""twitter-text's conformance suite against sevadesk's one reader of post text.

Every case of every file in ../shared/data/twitter-text-conformance is collected, read from the
YAML at test time (the suite's README asks ports not to copy its cases). A case either runs
against `sevadesk.domain.post_text` or is skipped with the reason written in NOT_APPLICABLE
below: what it tests is something sevadesk does not do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from sevadesk.config import get_settings
from sevadesk.domain import post_text as pt

SUITE = get_settings().data_dir / "twitter-text-conformance"

# Sections of the suite that test what sevadesk does not do, each with the reason.
NOT_APPLICABLE: dict[tuple[str, str], str] = {
    **{
        ("autolink", section): "sevadesk renders no post as linked HTML (autoLink*); its pages "
        "show the text escaped, so there is nothing to compare with the expected markup"
        for section in ("usernames", "lists", "hashtags", "urls", "cashtags", "all", "json")
    },
    **{
        ("hit_highlighting", section): "sevadesk highlights no search hits inside post text"
        for section in ("plain_text", "with_links")
    },
    ("extract", "cashtags"): "sevadesk reads no $cashtags: share symbols are not grievances, "
    "and nothing routes or triages on them",
    ("extract", "cashtags_with_indices"): "sevadesk reads no $cashtags (see extract/cashtags)",
    ("validate", "urls"): "isValidUrl checks a string is one RFC 3986 URL (for a profile's "
    "website field); sevadesk only finds links inside post text (extract/urls, tlds)",
    ("validate", "urls_without_protocol"): "isValidUrl without a scheme: as validate/urls",
}


def _sections() -> list[Any]:
    """One pytest param per case: (file, section, case)."""
    if not SUITE.is_dir():
        return [
            pytest.param(
                None,
                marks=pytest.mark.skip(
                    reason=f"{SUITE} not found: the conformance suite sits in ../shared beside "
                    "the checkout (CI has it)"
                ),
                id="suite-missing",
            )
        ]
    params: list[Any] = []
    for path in sorted(SUITE.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if "tests" not in data:
            continue  # tld_lib.yml: the TLD list itself, exercised by tlds.yml's cases
        for section, cases in data["tests"].items():
            reason = NOT_APPLICABLE.get((path.stem, section))
            for i, case in enumerate(cases):
                marks = [pytest.mark.skip(reason=f"not applicable: {reason}")] if reason else []
                params.append(
                    pytest.param(
                        (path.stem, section, case), marks=marks, id=f"{path.stem}-{section}-{i}"
                    )
                )
    return params


def _mention_dicts(found: list[pt.Mention], with_list: bool) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for m in found:
        d: dict[str, Any] = {"screen_name": m.screen_name}
        if with_list:
            d["list_slug"] = m.list_slug
        d["indices"] = [m.start, m.end]
        out.append(d)
    return out


def _weighed(text: str, version: int) -> dict[str, Any]:
    w = pt.weigh(text, version)
    return {
        "weightedLength": w.weighted_length,
        "valid": w.valid,
        "permillage": w.permillage,
        "displayRangeStart": w.display_range[0],
        "displayRangeEnd": w.display_range[1],
        "validRangeStart": w.valid_range[0],
        "validRangeEnd": w.valid_range[1],
    }


def _is_valid_list(text: str) -> bool:
    found = pt.mentions_or_lists_with_indices(text)
    return (
        len(found) == 1
        and found[0].list_slug != ""
        and (found[0].start, found[0].end)
        == (
            0,
            len(text),
        )
    )


def _run(suite: str, section: str, text: str) -> Any:
    """What sevadesk answers for one case, shaped like the suite's `expected`."""
    match suite, section:
        case "extract", "mentions":
            return list(pt.mentions(text))
        case "extract", "mentions_with_indices":
            return _mention_dicts(pt.mentions_with_indices(text), with_list=False)
        case "extract", "mentions_or_lists_with_indices":
            return _mention_dicts(pt.mentions_or_lists_with_indices(text), with_list=True)
        case "extract", "replies":
            return pt.reply_to(text)
        case "extract", "urls" | "tco_urls_with_params":
            return list(pt.links(text))
        case "extract", "urls_with_indices" | "urls_with_directional_markers":
            return [
                {"url": u.url, "indices": [u.start, u.end]} for u in pt.links_with_indices(text)
            ]
        case "extract", "hashtags" | "hashtags_from_astral":
            return list(pt.hashtags(text))
        case "extract", "hashtags_with_indices":
            return [
                {"hashtag": h.tag, "indices": [h.start, h.end]}
                for h in pt.hashtags_with_indices(text)
            ]
        case "tlds", _:
            return list(pt.links(text))
        case "validate", "tweets":
            # The suite's oldest cases count to 140, twitter-text's configuration version 1.
            return pt.weigh(text, version=1).valid
        case "validate", "usernames":
            return list(pt.mentions(text)) == [text[1:]]
        case "validate", "lists":
            return _is_valid_list(text)
        case "validate", "hashtags":
            return list(pt.hashtags(text)) == [text[1:]]
        case "validate", "WeightedTweetsCounterTest":
            return _weighed(text, version=2)
        case "validate", "WeightedTweetsWithDiscountedEmojiCounterTest":
            return _weighed(text, version=3)
        case "validate", "UnicodeDirectionalMarkerCounterTest":
            return _weighed(text, version=3)
    raise AssertionError(f"no runner for {suite}/{section}: add one or list it as not applicable")


@pytest.mark.parametrize("case", _sections())
def test_conformance(case: tuple[str, str, dict[str, Any]]) -> None:
    suite, section, c = case
    assert _run(suite, section, c["text"]) == c["expected"], c["description"]


def test_every_section_of_the_suite_has_a_runner_or_a_reason() -> None:
    """A new section in a later copy of the suite fails here instead of passing unseen."""
    if not SUITE.is_dir():
        pytest.skip(f"{SUITE} not found (CI has ../shared)")
    for path in sorted(SUITE.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for section, cases in (data.get("tests") or {}).items():
            if (path.stem, section) in NOT_APPLICABLE:
                continue
            _run(path.stem, section, cases[0]["text"])  # raises when there is no runner


def test_indic_hashtags_stay_whole() -> None:
    text = "सड़क पर गड्ढे #स्वच्छभारत #ਪੰਜਾਬ_ਪੁਲਿਸ #தமிழ்நாடு @Uppolice"
    assert pt.hashtags(text) == ("स्वच्छभारत", "ਪੰਜਾਬ_ਪੁਲਿਸ", "தமிழ்நாடு")
    assert pt.mentions(text) == ("Uppolice",)


def test_a_retweet_written_without_a_space_still_names_who_it_quotes() -> None:
    assert pt.mentions("RT@RailMinIndia: coach B4 has no water") == ("RailMinIndia",)
    assert pt.mentions("write to help@irctc.co.in") == ()


def test_word_counts_lose_whole_hashtags_handles_and_links() -> None:
    from sevadesk.routing.similar import content_words

    text = "गड्ढे #स्वच्छभारत @Uppolice see https://t.co/abc write help@irctc.co.in"
    assert pt.without_entities(text).split() == ["गड्ढे", "see", "write", "help@irctc.co.in"]
    assert "्वच्छभारत" not in content_words(text) and "स्वच्छभारत" not in content_words(text)


def test_a_hashtag_inside_a_link_is_not_a_hashtag() -> None:
    text = "see https://example.com/page#section and #RailMadad"
    assert pt.hashtags(text) == ("RailMadad",)
    assert pt.links(text) == ("https://example.com/page#section",)


def test_hindi_weighs_one_per_character_and_a_link_23() -> None:
    assert pt.weighted_length("पानी नहीं है") == 12
    assert pt.weighted_length("see https://example.com/a/very/long/path/indeed") == 27
    assert pt.fits("न" * 280) and not pt.fits("न" * 281)
    assert not pt.fits("数" * 141)  # CJK weighs 2


_TEXT = st.text(
    alphabet=st.sampled_from(list("ab1_ #@＃＠.:/ &RTrt\u0938\u094d\u0935\u091b\u200dé")),
    max_size=40,
)


@given(_TEXT)
def test_every_entity_found_is_where_its_indices_say(text: str) -> None:
    for h in pt.hashtags_with_indices(text):
        assert text[h.start] in "#＃" and text[h.start + 1 : h.end] == h.tag
    for m in pt.mentions_or_lists_with_indices(text):
        assert text[m.start] in "@＠" and text[m.start + 1 : m.end] == m.screen_name + m.list_slug
    assert pt.weighted_length(text) >= 0


def test_suite_path_is_beside_the_checkout() -> None:
    # Guards the skip above from hiding a moved data folder on a machine that has ../shared.
    shared = Path(__file__).resolve().parents[3] / "shared" / "data"
    if shared.is_dir():
        assert SUITE.is_dir()
