"""The clause suggestions are computed while a page renders, and `make run`'s server (and gunicorn's
threaded workers) render pages in several threads at once. The stemmer keeps the word it is working
on in itself, so one shared by threads mixes their words up: a case page once failed with
"IndexError: string index out of range" deep inside it when eight tabs opened it together."""

import sys
import threading

from policyhub import suggest

WORDS = [
    f"{stem}{ending}"
    for stem in ("rational", "condition", "relat", "digit", "operat", "sensit", "harass", "photograph")
    for ending in ("ional", "izations", "iveness", "fulness", "ousness", "ically", "ements", "ing", "ed", "s")
]


def test_stemming_in_many_threads_at_once_gives_the_serial_answers():
    suggest._stem.cache_clear()
    expected = {word: suggest._stem(word) for word in WORDS}
    # Switch threads as often as the interpreter allows, so an unsafe stemmer is caught in the act.
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    failures, start = [], threading.Barrier(8)

    def stem_all():
        start.wait()
        for _ in range(30):
            suggest._stem.cache_clear()
            for word in WORDS:
                try:
                    got = suggest._stem(word)
                except IndexError as error:
                    failures.append(f"{word}: {error}")
                    continue
                if got != expected[word]:
                    failures.append(f"{word}: {got} != {expected[word]}")

    threads = [threading.Thread(target=stem_all) for _ in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(old)
    assert failures == []
