"""The same post however its address was copied (incidents/urlmatch.py), and different posts apart."""

import pytest

from incidents import urlmatch

# Each group: addresses of ONE post, as staff paste them from phones, apps and browsers.
SAME = {
    "facebook post": [
        "https://www.facebook.com/oakfield.parents/posts/12345",
        "http://www.facebook.com/oakfield.parents/posts/12345/",
        "https://facebook.com/oakfield.parents/posts/12345",
        "facebook.com/oakfield.parents/posts/12345",
        "www.facebook.com/oakfield.parents/posts/12345",
        "https://m.facebook.com/oakfield.parents/posts/12345?fbclid=IwAR0abc",
        "https://mbasic.facebook.com/oakfield.parents/posts/12345?__tn__=%2CO",
        "https://web.facebook.com/oakfield.parents/posts/12345?mibextid=Nif5oz",
        "HTTPS://WWW.FACEBOOK.COM/oakfield.parents/posts/12345#comments",
        "https://www.facebook.com:443/oakfield.parents/posts/12345?utm_source=share&utm_medium=ios_app",
        "https://fb.com/oakfield.parents/posts/12345",
        "https://www.facebook.com//oakfield.parents/posts/12345",
        "<https://www.facebook.com/oakfield.parents/posts/12345>",
    ],
    "facebook permalink (the post is in the query)": [
        "https://www.facebook.com/permalink.php?story_fbid=555&id=777",
        "https://m.facebook.com/permalink.php?id=777&story_fbid=555&fbclid=abc",
        "http://facebook.com/permalink.php?story_fbid=555&id=777&__cft__[0]=AZX",
    ],
    "tweet": [
        "https://twitter.com/OakfieldParent/status/1790000000000000000",
        "https://x.com/oakfieldparent/status/1790000000000000000?s=20",
        "https://mobile.twitter.com/OakfieldParent/status/1790000000000000000?t=abcDEF&s=19",
        "http://www.x.com/OakfieldParent/status/1790000000000000000/",
        "x.com/OakfieldParent/status/1790000000000000000?ref_src=twsrc%5Etfw",
    ],
    "youtube video": [
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "https://youtu.be/dQw4w9WgXcQ",
        "https://youtu.be/dQw4w9WgXcQ?si=abcdefgh",
        "https://m.youtube.com/watch?v=dQw4w9WgXcQ&feature=share",
        "https://www.youtube.com/watch?feature=youtu.be&v=dQw4w9WgXcQ&t=42",
        "https://www.youtube.com/shorts/dQw4w9WgXcQ",
        "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ",
    ],
    "instagram post": [
        "https://www.instagram.com/p/CxYz123AbC/",
        "https://instagram.com/p/CxYz123AbC?igshid=MzRlODBiNWFlZA==",
        "https://www.instagram.com/p/CxYz123AbC/?igsh=abc&utm_source=ig_web_copy_link",
        "https://instagr.am/p/CxYz123AbC",
    ],
    "tiktok video": [
        "https://www.tiktok.com/@oakfieldmum/video/7300000000000000000",
        "https://m.tiktok.com/@oakfieldmum/video/7300000000000000000?is_from_webapp=1&sender_device=pc",
        "https://tiktok.com/@oakfieldmum/video/7300000000000000000/?_r=1&_t=8abc",
    ],
    "linkedin post": [
        "https://www.linkedin.com/posts/someone_activity-7100000000-abcd",
        "https://linkedin.com/posts/someone_activity-7100000000-abcd/?utm_source=share&utm_medium=member_ios",
    ],
    "a local news page": [
        "https://www.localnews.example.co.uk/news/school-row-123",
        "http://localnews.example.co.uk/news/school-row-123/?utm_campaign=x&gclid=abc",
    ],
}

# Each pair: two different posts that must NOT match.
DIFFERENT = [
    ("https://www.facebook.com/oakfield.parents/posts/12345", "https://www.facebook.com/oakfield.parents/posts/12346"),
    (
        "https://www.facebook.com/permalink.php?story_fbid=555&id=777",
        "https://www.facebook.com/permalink.php?story_fbid=556&id=777",
    ),
    ("https://youtu.be/dQw4w9WgXcQ", "https://youtu.be/dQw4w9WgXcq"),  # video ids are case-sensitive
    ("https://www.instagram.com/p/CxYz123AbC/", "https://www.instagram.com/p/cxyz123abc/"),
    ("https://www.facebook.com/oakfield.parents/posts/12345", "https://www.instagram.com/oakfield.parents/posts/12345"),
    ("https://x.com/a/status/1", "https://x.com/a/status/2"),
    ("https://www.facebook.com/groups/oakfield", "https://www.facebook.com/groups/oakfield/posts/1"),
    ("https://m.example.com/page", "https://example.org/page"),
]


@pytest.mark.parametrize("name", SAME)
def test_every_way_of_copying_one_post_gives_one_key(name):
    keys = {address: urlmatch.key(address) for address in SAME[name]}
    assert None not in keys.values(), keys
    assert len(set(keys.values())) == 1, keys


def test_the_groups_do_not_collide():
    keys = {name: urlmatch.key(addresses[0]) for name, addresses in SAME.items()}
    assert len(set(keys.values())) == len(keys)


@pytest.mark.parametrize(("one", "other"), DIFFERENT)
def test_different_posts_keep_different_keys(one, other):
    assert urlmatch.key(one) != urlmatch.key(other)


@pytest.mark.parametrize("text", ["", "   ", "not a link", "mailto:head@example.org", "javascript:alert(1)", "http://"])
def test_what_is_not_a_web_address_has_no_key(text):
    assert urlmatch.key(text) is None


def test_addresses_are_found_in_free_text():
    text = (
        "I saw it here: https://m.facebook.com/oakfield.parents/posts/12345?fbclid=1, and again on\n"
        "facebook.com/oakfield.parents/posts/12345 — also www.youtube.com/watch?v=dQw4w9WgXcQ.\n"
        "Nothing else."
    )
    assert urlmatch.keys(text) == {
        "facebook.com/oakfield.parents/posts/12345",
        "youtube.com/watch?v=dQw4w9WgXcQ",
    }
