"""Every label the web app writes judges the run the page or the API client was looking at."""

from __future__ import annotations

from datetime import date

import polars as pl

from seglens.segmenters import RFMSegmenter
from seglens.store import label_history, record_run, run_assignments
from tests.web.conftest import ORIGIN, Client, Seeded, Users, login, rfm_features


def _h(users: Users, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {users.tokens[role]}"}


def _newer_run(seeded: Seeded) -> int:
    """A third run, recorded after a page showed the second."""
    feats = rfm_features(120, 3)
    assigned = RFMSegmenter().fit(feats).assign(feats).select("customer_id", "segment")
    return record_run(
        seeded.store,
        assigned,
        segmenter="RFMSegmenter",
        parameters={},
        as_of=date(2011, 12, 31),
        data_hash="hash3",
    )


def _last_label(seeded: Seeded) -> dict[str, object]:
    row: dict[str, object] = label_history(seeded.store).row(-1, named=True)
    return row


def test_a_review_queue_label_judges_the_run_the_queue_showed(
    client: Client, seeded: Seeded
) -> None:
    login(client, "reviewer")
    page = client.get("/review").text
    shown = seeded.runs[1]
    assert f'name="run_id" value="{shown}"' in page
    cid, seg = (
        run_assignments(seeded.store, shown)
        .filter(~pl.col("customer_id").is_in(seeded.labelled))
        .row(0)[:2]
    )
    newer = _newer_run(seeded)  # the latest run is now another one
    form = {"customer_id": cid, "segment": seg, "assigned": seg, "run_id": str(shown)}
    resp = client.post("/review/label", data=form, headers={"Origin": ORIGIN})
    assert resp.status_code == 303
    got = _last_label(seeded)
    assert (got["customer_id"], got["segment"], got["run_id"], got["judged_segment"]) == (
        cid,
        seg,
        shown,
        seg,
    )
    assert got["run_id"] != newer


def test_a_form_claiming_another_segment_than_the_run_gave_is_refused(
    client: Client, seeded: Seeded
) -> None:
    login(client, "reviewer")
    latest = run_assignments(seeded.store, seeded.runs[1])
    cid, seg = latest.row(0)[:2]
    other = next(s for s in latest["segment"].unique().sort() if s != seg)
    before = label_history(seeded.store).height
    form = {"customer_id": cid, "segment": seg, "assigned": other, "run_id": str(seeded.runs[1])}
    resp = client.post("/review/label", data=form, headers={"Origin": ORIGIN})
    assert resp.status_code == 422 and label_history(seeded.store).height == before


def test_the_customer_page_labels_against_the_run_it_shows(client: Client, seeded: Seeded) -> None:
    login(client, "reviewer")
    run = seeded.runs[1]
    cid, seg = run_assignments(seeded.store, run).row(3)[:2]
    page = client.get(f"/customers/{cid}").text
    assert f'name="run_id" value="{run}"' in page
    assert f'name="assigned" value="{seg}"' in page
    form = {"customer_id": cid, "segment": seg, "assigned": seg, "run_id": str(run)}
    resp = client.post("/review/label", data=form, headers={"Origin": ORIGIN})
    assert resp.status_code == 303
    got = _last_label(seeded)
    assert (got["customer_id"], got["run_id"], got["judged_segment"]) == (cid, run, seg)


def test_api_labels_judge_the_given_run_or_the_latest(
    client: Client, seeded: Seeded, users: Users
) -> None:
    first, second = seeded.runs
    old = dict(run_assignments(seeded.store, first).select("customer_id", "segment").iter_rows())
    new = dict(run_assignments(seeded.store, second).select("customer_id", "segment").iter_rows())
    cid = "c050"
    body = {
        "labels": [
            {"customer_id": cid, "segment": old[cid], "run_id": first},
            {"customer_id": cid, "segment": new[cid]},
        ]
    }
    resp = client.post("/api/labels/batch", json=body, headers=_h(users, "reviewer"))
    assert resp.status_code == 201
    pairs = [(lab["run_id"], lab["judged_segment"]) for lab in resp.json()["labels"]]
    assert pairs == [(first, old[cid]), (second, new[cid])]
    listed = client.get(f"/api/labels?customer_id={cid}", headers=_h(users, "viewer")).json()
    assert [(lab["run_id"], lab["judged_segment"]) for lab in listed["labels"]] == pairs
    bad = {"customer_id": cid, "segment": new[cid], "run_id": 999}
    resp = client.post("/api/labels", json=bad, headers=_h(users, "reviewer"))
    assert resp.status_code == 422 and "no segmentation run 999" in resp.json()["detail"]
