"""``Store.other_images``: the other images read of the printed page a page is read as, whichever of them is
asked about. ``pages.conflict_of`` would not do: it names the page ``read`` from a conflict only, so a
conflict's other images, or those of a page voided since, are not found through it."""

from __future__ import annotations

from formkit.store import Store
from tests.conftest import both_backends
from tests.test_store_backends import add, file_info, reading


def _others(store: Store, page_id: int) -> list[int]:
    return [int(r["id"]) for r in store.other_images(page_id)]


@both_backends
def test_the_other_images_of_a_page_are_its_conflicts_whichever_image_is_asked_about(new_store):
    store = Store(new_store)
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        add(store, file_info(name), reading(file_info(name)))
    a, b, c = (int(r["id"]) for r in store.pages())
    assert [r["path"] for r in store.other_images(a)] == ["b.jpg", "c.jpg"]
    assert (_others(store, a), _others(store, b), _others(store, c)) == ([b, c], [c], [b])
    store.void_pages([a], "scanned twice", "ann")  # b is read in its place
    assert (_others(store, a), _others(store, b), _others(store, c)) == ([c], [c], [])
    store.restore_pages([a], "ann")
    assert (_others(store, a), _others(store, b), _others(store, c)) == ([b, c], [c], [b])
    store.close()


@both_backends
def test_a_value_decided_on_an_image_voided_since_waits_where_the_other_image_reads_otherwise(new_store):
    """Two images of a page disagree on q1 (3, flagged, and 5): the reviewer, shown both, decides 4 on the page
    read. That page is then voided (photographed twice): the other image, read in its place, read 5 at full
    confidence and was exported so, unflagged, the decision gone unseen. Now its q1 waits for review saying
    what was decided; q2, read alike, does not. Restored, the page's decision stands again and nothing waits."""
    store = Store(new_store)
    add(store, file_info("a.jpg"), reading(file_info("a.jpg"), q1="3"))
    add(store, file_info("b.jpg"), reading(file_info("b.jpg"), q1="5", flagged=False))
    a, b = (int(r["id"]) for r in store.pages())
    [waiting] = [r for r in store.review_queue("ann", -1) if r["field"] == "q1"]
    assert waiting["page_id"] == a and "another image of this page reads '5'" in waiting["reason"]
    assert store.decide(int(waiting["value_id"]), "corrected", "4", "ann", "3") == ""
    assert not store.review_queue("ann", -1)

    store.void_pages([a], "photographed twice", "bob")
    [flagged] = store.review_queue("ann", -1)
    assert (flagged["page_id"], flagged["field"], flagged["value"]) == (b, "q1", "5")
    assert f"ann decided '4' (corrected) on page {a}, voided since; this image reads '5'" in flagged["reason"]
    assert [r["action"] for r in store.audit_rows()][-1] == "flag-value"

    store.restore_pages([a], "bob")  # a is read again with its decision; b is a conflict again
    assert not store.review_queue("ann", -1)
    store.void_pages([a], "photographed twice", "bob")  # voided again: flagged once, not twice
    [again] = store.review_queue("ann", -1)
    assert again["reason"].count("ann decided") == 1
    store.close()


@both_backends
def test_a_value_decided_before_another_image_of_its_page_came_in_waits_where_that_image_reads_otherwise(new_store):
    """The reviewer accepted q1 = 3 on the only image of the page; a second scan of it then came in reading 5.
    The decision stood, unflagged, and the export carried 3 past an image nobody had seen. Now q1 waits for
    review again, saying what was decided and what the new image reads; q2, decided too and read alike, stands.
    A page assigned there by hand (it was read as another serial) is another image coming in, and does the
    same."""
    store = Store(new_store)
    add(store, file_info("a.jpg"), reading(file_info("a.jpg"), q1="3"))
    [a] = [int(r["id"]) for r in store.pages()]
    decided = {r["field"]: int(r["value_id"]) for r in store.values()}
    assert store.decide(decided["q1"], "accepted", "3", "ann", "3") == ""
    assert store.decide(decided["q2"], "accepted", "1", "ann", "1") == ""
    assert not store.review_queue("ann", -1)

    add(store, file_info("b.jpg"), reading(file_info("b.jpg"), q1="5", flagged=False))
    b = max(int(r["id"]) for r in store.pages())
    [waiting] = store.review_queue("bob", -1)
    assert (waiting["page_id"], waiting["field"], waiting["value"]) == (a, "q1", "3")
    assert f"ann decided '3' (accepted) on this image before another image of this page came in (page {b}), " \
           "which reads '5'" in waiting["reason"]
    assert [r["action"] for r in store.audit_rows()][-1] == "flag-value"
    assert {r["field"]: r["review"] for r in store.values() if r["page_id"] == a} == {"q1": "", "q2": "accepted"}

    assert store.decide(int(waiting["value_id"]), "corrected", "5", "bob", "3") == ""  # seen with b: it stands
    add(store, file_info("c.jpg"), reading(file_info("c.jpg"), serial="ZZZZ9999", q1="2", flagged=False))
    c = max(int(r["id"]) for r in store.pages())
    assert not store.review_queue("bob", -1)
    store.replace_page(c, reading(file_info("c.jpg"), q1="2", flagged=False), "bob")  # assigned to a's page
    [again] = store.review_queue("ann", -1)
    assert (again["page_id"], again["field"], again["value"]) == (a, "q1", "5")
    assert f"bob decided '5' (corrected) on this image before another image of this page came in (page {c})" \
           in again["reason"]
    store.close()


@both_backends
def test_a_decision_made_with_the_other_image_in_view_stands_when_that_image_is_assigned_away_and_back(
        new_store, monkeypatch):
    """Ann decided q1 while the queue named image b's other reading; b was then assigned to another serial by
    mistake and back: her decision was flagged again, saying she had decided before b came in. A decision made
    while b was away is flagged when it comes back, as one made before it first came in."""
    import itertools

    import formkit.store as store_module
    from formkit.store import changes, reviewing

    seconds = itertools.count()
    clock = lambda: f"2026-12-06T10:{(n := next(seconds)) // 60:02d}:{n % 60:02d}+00:00"  # noqa: E731 - a second a call
    for module in (store_module, changes, reviewing):
        monkeypatch.setattr(module, "now", clock)
    store = Store(new_store)
    add(store, file_info("a.jpg"), reading(file_info("a.jpg"), q1="3", flagged=False))
    add(store, file_info("b.jpg"), reading(file_info("b.jpg"), q1="5", flagged=False))
    a, b = (int(r["id"]) for r in store.pages())
    [waiting] = store.review_queue("ann", -1)
    assert store.decide(int(waiting["value_id"]), "accepted", "3", "ann", "3") == ""
    away = reading(file_info("b.jpg"), serial="ZZZZ9999", q1="5", flagged=False)
    store.replace_page(b, away, "bob")
    store.replace_page(b, reading(file_info("b.jpg"), q1="5", flagged=False), "bob")
    assert not store.review_queue("bob", -1)

    store.replace_page(b, away, "bob")  # away again; ann decides once more meanwhile, b out of view
    q1 = next(int(r["value_id"]) for r in store.values() if (r["page_id"], r["field"]) == (a, "q1"))
    assert store.undo("ann").field == "q1"
    assert store.decide(q1, "corrected", "4", "ann", "3") == ""
    store.replace_page(b, reading(file_info("b.jpg"), q1="5", flagged=False), "bob")
    [again] = store.review_queue("bob", -1)
    assert (again["page_id"], again["field"]) == (a, "q1")
    assert "ann decided '4' (corrected) on this image before another image of this page came in" in again["reason"]
    store.close()
