"""The review app against hostile requests: DNS rebinding (foreign Host or Origin), framing, non-ASCII
tokens, ids beyond SQLite's integers, malformed forms, and a list of odd requests none of which may end
in a server error."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from formkit.catalogue import shipped_catalogue
from formkit.review import queue as decisions
from formkit.review.app import allowed_hosts_for, create_app
from formkit.store import Store
from scanner.assign import read_source_as
from tests.shared_pages import Return, copy_store, print_and_fill, scan_and_review

# the tests share module-scoped fixtures: with --dist loadgroup they run on one xdist worker, which
# builds the fixtures once
pytestmark = pytest.mark.xdist_group("review_security")

PORT = 8765
SERVED = {f"127.0.0.1:{PORT}", f"localhost:{PORT}", f"[::1]:{PORT}"}
HUGE = "9" * 23  # beyond SQLite's 64-bit integers


@pytest.fixture(scope="module")
def k10_store(tmp_path_factory) -> tuple[Path, str]:
    """A store with one K10 page read, four rows of it marked twice and waiting for review: scanned once."""
    tmp = tmp_path_factory.mktemp("k10-store")
    answers = {f"k10_{i:02d}": 1 + i % 5 for i in range(1, 11)}
    twice = ("k10_02", "k10_03", "k10_04", "k10_07")
    [serial] = print_and_fill(tmp, [Return("k10", answers, doubles=twice)], random.Random(2))
    return scan_and_review(tmp / "scans", tmp / "store.sqlite", lambda row: None), serial


@pytest.fixture
def scanned(k10_store, tmp_path) -> tuple[Path, str]:
    """The store of ``k10_store``, a copy of this test's own (some requests may change it)."""
    db, serial = k10_store
    store = Store(db, readonly=True)
    assert [p["id"] for p in store.pages()] == [1] and len(decisions.queue(store)) == 4
    store.close()
    return copy_store(db, tmp_path), serial


def app_with(db: Path, access_token: str | None = None, **kwargs):
    catalogue = shipped_catalogue()
    return create_app(db, catalogue, lambda source, payload: read_source_as(source, payload, catalogue), access_token,
                      **kwargs)


def signed_in(client, csrf: str = "t", host: str = "localhost") -> None:
    """Sign ``client`` in as ann, for ``host`` (the test client keeps cookies per host name)."""
    with client.session_transaction(headers={"Host": host}) as s:
        s["reviewer"], s["csrf"] = "ann", csrf


def answers(client, host: str) -> bool:
    """Whether the app answers ``host``: the page image is served (the test client keeps no cookies for an
    IPv6 host, so there only whether a page is served)."""
    if host.startswith("["):
        return client.get("/favicon.ico", headers={"Host": host}).status_code == 204
    return client.get("/page/1.jpg", headers={"Host": host}).status_code == 200


def test_a_rebound_host_name_is_refused_before_any_page_or_image_is_served(scanned):
    db, _ = scanned
    client = app_with(db, allowed_hosts=SERVED).test_client()
    for host in ("127.0.0.1:8765", "localhost:8765", "[::1]:8765", "LOCALHOST:8765"):
        signed_in(client, host=host)
        assert answers(client, host), host
    signed_in(client, host="127.0.0.1:8765")
    for host in ("evil.example:8765", "evil.example", "127.0.0.1:8766", "127.0.0.1", "localhost.:8765",
                 "127.0.0.1:8765@evil.example", "", "127.0.0.1:99999", "[::1", "localhost:abc"):
        response = client.get("/page/1.jpg", headers={"Host": host})
        assert response.status_code == 400, host
        assert response.mimetype != "image/jpeg"
        assert client.get("/crop/1.jpg", headers={"Host": host}).status_code == 400, host
        assert client.post("/who", headers={"Host": host}, data={"csrf": "t", "reviewer": "mallory"}).status_code == 400
        assert client.post("/undo", headers={"Host": host}, data={"csrf": "t"}).status_code == 400
    with client.session_transaction(headers={"Host": "127.0.0.1:8765"}) as s:
        assert s["reviewer"] == "ann"  # a post to another port carried this cookie, and never reached "who"


def test_without_allowed_hosts_only_loopback_names_are_answered(scanned):
    db, _ = scanned
    client = app_with(db).test_client()
    for host in ("localhost", "127.0.0.1:5000", "[::1]:1", "localhost:8765"):
        signed_in(client, host=host)
        assert answers(client, host), host
    for host in ("attacker.example", "attacker.example:5000", "127.0.0.2:5000", "0.0.0.0:5000"):
        signed_in(client, host=host)
        assert client.get("/page/1.jpg", headers={"Host": host}).status_code == 400, host


def test_posts_from_another_origin_are_refused(scanned):
    db, _ = scanned
    client = app_with(db, allowed_hosts=SERVED).test_client()
    host = {"Host": f"127.0.0.1:{PORT}"}
    signed_in(client, host=host["Host"])
    for origin in ("http://evil.example:8765", "http://evil.example", "null", f"https://127.0.0.1:{PORT}",
                   f"http://localhost:{PORT}", "http://127.0.0.1:8766", f"http://127.0.0.1:{PORT}/", "garbage"):
        response = client.post("/undo", headers={**host, "Origin": origin}, data={"csrf": "t"})
        assert response.status_code == 400, origin
    assert client.post("/undo", headers={**host, "Origin": f"http://127.0.0.1:{PORT}"},
                       data={"csrf": "t"}).status_code == 302
    assert client.post("/undo", headers=host, data={"csrf": "t"}).status_code == 302  # no Origin: the CSRF token


def test_allowed_hosts_for_what_the_server_listens_on():
    assert allowed_hosts_for("127.0.0.1", 8765) == SERVED
    assert allowed_hosts_for("localhost", 8765) == SERVED
    assert allowed_hosts_for("::1", 8765) == SERVED
    assert allowed_hosts_for("192.168.1.5", 80) == {"192.168.1.5:80"}
    assert allowed_hosts_for("fe80::1", 9000) == {"[fe80::1]:9000"}
    assert allowed_hosts_for("0.0.0.0", 8765) == {"*"}


def test_a_server_for_another_address_answers_there_and_when_listening_everywhere_anywhere(scanned):
    db, _ = scanned
    client = app_with(db, allowed_hosts={"192.168.1.5:80"}).test_client()
    signed_in(client, host="192.168.1.5")
    assert client.get("/page/1.jpg", headers={"Host": "192.168.1.5"}).status_code == 200
    assert client.get("/page/1.jpg", headers={"Host": "localhost"}).status_code == 400
    anywhere = app_with(db, allowed_hosts={"*"}).test_client()
    signed_in(anywhere, host="mybox.lan:8765")
    assert anywhere.get("/page/1.jpg", headers={"Host": "mybox.lan:8765"}).status_code == 200
    assert anywhere.post("/undo", headers={"Host": "mybox.lan:8765", "Origin": "http://evil.example:8765"},
                         data={"csrf": "t"}).status_code == 400
    assert anywhere.post("/undo", headers={"Host": "mybox.lan:8765", "Origin": "http://mybox.lan:8765"},
                         data={"csrf": "t"}).status_code == 302


def test_allowed_hosts_may_be_set_once_the_port_is_known(scanned):
    db, _ = scanned
    app = app_with(db, allowed_hosts=set())
    client = app.test_client()
    signed_in(client, host="127.0.0.1:40001")
    assert client.get("/page/1.jpg", headers={"Host": "127.0.0.1:40001"}).status_code == 400
    app.config["ALLOWED_HOSTS"] = allowed_hosts_for("127.0.0.1", 40001)
    assert client.get("/page/1.jpg", headers={"Host": "127.0.0.1:40001"}).status_code == 200


def test_no_page_may_be_framed(scanned):
    db, _ = scanned
    response = app_with(db).test_client().get("/who")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    refused = app_with(db).test_client().get("/who", headers={"Host": "evil.example"})
    assert refused.status_code == 400 and refused.headers["X-Frame-Options"] == "DENY"


def test_non_ascii_tokens_are_refused_not_errors(scanned):
    db, _ = scanned
    guarded = app_with(db, access_token="s3cret").test_client()
    for token in ("é", "s3cret\u00e9", "\u2603" * 40):
        assert guarded.get("/", query_string={"token": token}).status_code == 403, token
    assert guarded.get("/?token=%FF%FE").status_code == 403
    assert guarded.get("/?token=s3cret").status_code == 302
    client = app_with(db).test_client()
    signed_in(client)
    for csrf in ("é", "t\u00e9", "\u2603"):
        assert client.post("/undo", data={"csrf": csrf}).status_code == 400, csrf
    signed_in(client, csrf="\u00e9t\u00e9")  # a session's own token compares as bytes too
    assert client.post("/undo", data={"csrf": "\u00e9t\u00e9"}).status_code == 302


@pytest.mark.parametrize("url", [f"/crop/{HUGE}.jpg", f"/page/{HUGE}.jpg", f"/value/{HUGE}",
                                 f"/crop/{2**63}.jpg", f"/page/{2**63}.jpg", f"/crop/{'1' * 5000}.jpg"])
def test_ids_beyond_the_stores_integers_are_not_found(scanned, url):
    db, _ = scanned
    client = app_with(db).test_client()
    signed_in(client)
    assert client.get(url).status_code == 404


def test_the_largest_id_is_simply_not_there(scanned):
    db, _ = scanned
    client = app_with(db).test_client()
    signed_in(client)
    assert client.get(f"/crop/{2**63 - 1}.jpg").status_code == 404
    assert client.get(f"/value/{2**63 - 1}", follow_redirects=True).status_code == 200  # "already reviewed"


def test_huge_ids_in_posts_are_not_found(scanned):
    db, _ = scanned
    client = app_with(db).test_client()
    signed_in(client)
    assert client.post(f"/assign/{HUGE}", data={"csrf": "t", "form": "k10:1", "page": "1"}).status_code == 404
    assert client.post(f"/value/{HUGE}", data={"csrf": "t", "value": "1"}).status_code == 404


@pytest.mark.parametrize(("fields", "message"), [
    ({"form": "k10:abc"}, "Choose a form from the list"),
    ({"form": "k10:"}, "Choose a form from the list"),
    ({"form": "k10"}, "Choose a form from the list"),
    ({"form": ""}, "Choose a form from the list"),
    ({}, "Choose a form from the list"),
    ({"form": "k10:1" + "0" * 5000}, "Choose a form from the list"),
    ({"form": "nosuch:1"}, "Choose a form from the list"),
    ({"form": "k10:\u0661"}, "Choose a form from the list"),
    ({"form": "k10:1", "page": "x"}, "is not a page number"),
    ({"form": "k10:1", "page": ""}, "is not a page number"),
    ({"form": "k10:1", "page": "9" * 5000}, "is not a page number"),
    ({"form": "k10:1", "page": "\u00b2"}, "is not a page number"),
    ({"form": "k10:1", "page": "7"}, "has no page 7"),
    ({"form": "k10:1", "page": "1", "serial": "x" * 10000}, "is not a valid serial"),
])
def test_a_malformed_assignment_is_explained_never_an_error(scanned, fields, message):
    db, _ = scanned
    client = app_with(db).test_client()
    signed_in(client)
    response = client.post("/assign/1", data={"csrf": "t", "serial": "K7M3-QX9C", **fields})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert message in page
    assert "x" * 100 not in page and "9" * 100 not in page and "0" * 100 not in page  # not echoed back whole


def test_typed_values_that_look_like_numbers_but_are_not_are_refused():
    from formkit.layout.model import Box, BoxesField, LineField
    from formkit.review.inputs import parse

    boxes = BoxesField("age", "digits", tuple(Box(0, 0, 5, 5) for _ in range(3)), minimum=0, maximum=120)
    assert parse(boxes, "\u00b2") == ("", "digits only")  # superscript two: isdigit(), but int() refuses it
    assert parse(boxes, "\uff14\uff12") == ("42", "")  # full-width digits, as some keyboards type them
    line = LineField("pain", 0, 0, 100, 0, 0, 10)
    assert parse(line, "-0") == ("0.0", "")
    assert parse(line, "nan")[1] and parse(line, "inf")[1] and parse(line, "1e999")[1]
    assert parse(None, "ok\x00") == ("", "no control or invisible characters, please")
    assert parse(None, "x" * 5000)[1].startswith("at most")
    # a lone zero-width space looks blank; a right-to-left override hides what is stored
    assert parse(None, "\u200b")[1] and parse(None, "abc\u202edef")[1]
    assert parse(None, "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645")[1] == ""  # a joiner Persian needs
    one = BoxesField("weight", "digits", (Box(0, 0, 5, 5),), minimum=1, maximum=9)
    assert parse(one, "12") == ("", "at most 1 digit")
    date = BoxesField("seen", "date", tuple(Box(0, 0, 5, 5) for _ in range(8)))
    assert parse(date, "01/01/0001")[1].startswith("a year from 1900 to") and parse(date, "04/12/2026")[1] == ""
    # float() took "1_0" and "1e1" for 10 and "1,234" for 1.2, and rounded 0.15 to 0.1 but 4.45 to 4.5: a mark's
    # position is a number with one decimal at most, as the hint says
    for typed in ("1_0", "1e1", "1,234", "0.15", "4.45", "+-1", "1.", ".5"):
        assert parse(line, typed) == ("", "a number with one decimal at most, e.g. 4.5"), typed
    typed = ("4,5", "4.50", "7", "\uff14.\uff15", "+3.0")
    assert [parse(line, t)[0] for t in typed] == ["4.5", "4.5", "7.0", "4.5", "3.0"]
    # a "correction" of only characters that show nothing (a direction mark, a soft hyphen, a Hangul filler)
    # looked blank and was stored as a value
    for invisible in ("\u200e", "\u200f", "\u00ad", "\u3164", "\u2063", "\u061c", " \u200f "):
        assert parse(None, invisible)[1].startswith("only characters that show nothing"), repr(invisible)
    assert parse(None, "abc\u00addef") == ("abc\u00addef", "")  # among letters, a soft hyphen hides nothing


def test_a_store_that_cannot_be_used_is_explained_not_a_server_error(tmp_path):
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    client = app_with(junk).test_client()
    signed_in(client)
    response = client.get("/")
    assert response.status_code == 503
    assert "not a formkit store" in response.get_data(as_text=True)
    assert junk.read_bytes() == b"not a database at all" * 100


def hostile_requests(value_id: int, cookie: str = "session") -> list[tuple[str, str, dict]]:
    """(method, path, keyword arguments for the test client) for requests a browser or an attacker may send;
    ``value_id`` is a value waiting for review (the last two requests decide on it)."""
    long = "A" * 100_000
    hosts = ["evil.example", "localhost:0", "localhost:-1", "[::1]:x", "l\u00f6calhost", "localhost\r\nX: y",
             "a" * 10_000, "localhost:8765:8765", "[", "]", ":", "@", "localhost/../x", "%00"]
    requests = [("GET", "/", {"headers": {"Host": h}}) for h in hosts]
    requests += [("POST", "/who", {"headers": {"Origin": o}, "data": {"csrf": "t", "reviewer": "x"}})
                 for o in ("null", "http://evil.example", "http://localhost:x", "http://[", "file://", "http://",
                           "http://localhost:8765\u00e9", long, "http://localhost:99999999999999999999")]
    requests += [("GET", "/", {"query_string": {"token": t}}) for t in ("\u00e9", "\ud800", long, "")]
    requests += [("POST", "/undo", {"data": {"csrf": c}}) for c in ("\u00e9", long, "", "\x00")]
    requests += [("GET", p, {}) for p in (f"/crop/{HUGE}.jpg", f"/page/{HUGE}.jpg", f"/value/{HUGE}", "/crop/-1.jpg",
                                          "/value/\u0663", "/value/0x10", f"/page/{'1' * 5000}.jpg", "/nope",
                                          "/static/../app.py", "/static/%2e%2e/app.py", "/" + long, "/pages?" + long,
                                          "/assign/1", "/undo", "/value/1?x=" + long)]
    requests += [("POST", "/assign/1", {"data": {"csrf": "t", **d}}) for d in (
        {"form": "k10:abc"}, {}, {"form": "k10:1", "page": "x"}, {"form": "k10:"}, {"form": ":"},
        {"form": "k10:1", "page": "-1"}, {"form": "k10:1", "page": "1", "serial": long}, {"form": long},
        {"form": "k10:1", "page": "1", "serial": "\u00e9" * 100}, {"form": "k10:1", "large_print": long})]
    requests += [("POST", f"/value/{value_id}", {"data": {"csrf": "t", **d}}) for d in (
        {"value": long}, {"value": "\u00b2"}, {"value": "\x00"}, {"value": "1" * 5000}, {"value": "nan"},
        {"value": "1 " * 1000}, {"value": "\ufdd0"}, {"value": "2", "action": long}, {"action": "drop table"})]
    requests += [("POST", "/who", {"data": {"csrf": "t", "reviewer": r}}) for r in (long, "\x00\x01", " ", "\ud800")]
    requests += [("POST", "/who", {"data": b"--x\r\nnot a form", "content_type": "multipart/form-data; boundary=x"}),
                 ("POST", "/who", {"data": b"\xff\xfe=\xff", "content_type": "application/x-www-form-urlencoded"}),
                 ("POST", "/who", {"data": b"csrf=t", "content_type": "multipart/form-data"}),
                 ("POST", "/who", {"data": b"x" * 3_000_000, "content_type": "application/x-www-form-urlencoded"}),
                 ("PUT", "/who", {}), ("DELETE", f"/value/{value_id}", {}), ("OPTIONS", "/who", {}),
                 ("HEAD", "/page/1.jpg", {}),
                 ("GET", "/", {"headers": {"Cookie": f"{cookie}=" + long}}),
                 ("GET", "/", {"headers": {"Cookie": f"{cookie}=\u00e9.garbage"}})]
    return requests


def test_no_hostile_request_is_a_server_error(scanned):
    db, _ = scanned
    for allowed in (None, SERVED):
        store = Store(db)
        value_id = decisions.queue(store)[0].value_id
        store.close()
        app = app_with(db, allowed_hosts=allowed)
        client = app.test_client()
        served = {"Host": "localhost"} if allowed is None else {"Host": f"localhost:{PORT}"}
        errors = []
        for reviewer in (False, True):
            for method, path, kwargs in hostile_requests(value_id, app.config["SESSION_COOKIE_NAME"]):
                if reviewer:
                    signed_in(client, host=served["Host"])
                headers = {**served, **kwargs.get("headers", {})}
                try:
                    response = client.open(path, method=method, **{**kwargs, "headers": headers})
                except Exception as exc:  # the test client itself refused to send it: not the app's doing
                    assert not re.search(r"formkit|flask", type(exc).__module__), exc
                    continue
                if response.status_code >= 500:
                    errors.append((method, path[:80], {k: str(v)[:80] for k, v in kwargs.items()},
                                   response.status_code))
        assert not errors, errors
