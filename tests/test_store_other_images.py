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
