"""The REST API: KPI, labels (single, batch, idempotency), customers, runs and scoring."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from seglens.accuracy import customer_accuracy
from seglens.segmenters import RFMSegmenter
from seglens.store import current_labels, kpi_table, label_history, run_assignments
from tests.web.conftest import Client, Seeded, Users, rfm_features


def _h(users: Users, role: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {users.tokens[role]}", **extra}


def test_current_kpi_matches_seglens_accuracy(client: Client, seeded: Seeded, users: Users) -> None:
    got = client.get("/api/kpi", headers=_h(users, "viewer")).json()
    value, n = seeded.expected_accuracy()
    assert got["accuracy"]["value_pct"] == pytest.approx(value)
    assert got["accuracy"]["n"] == n == len(seeded.labelled)
    assert got["run_id"] == seeded.runs[1] and got["target_pct"] == 85.0
    assert got["accuracy"]["ci_low_pct"] < value < got["accuracy"]["ci_high_pct"]
    assert sum(s["size"] for s in got["per_segment"]) == n


def test_a_correction_moves_the_kpi_and_its_n(client: Client, seeded: Seeded, users: Users) -> None:
    latest = run_assignments(seeded.store, seeded.runs[1])
    unlabelled = latest.filter(~latest["customer_id"].is_in(seeded.labelled)).row(0)
    segs = sorted(set(latest["segment"].to_list()))
    wrong = next(s for s in segs if s != unlabelled[1])
    before = client.get("/api/kpi", headers=_h(users, "viewer")).json()["accuracy"]
    resp = client.post(
        "/api/labels",
        json={"customer_id": unlabelled[0], "segment": wrong, "note": "moved region"},
        headers=_h(users, "reviewer"),
    )
    assert resp.status_code == 201
    assert resp.json()["labeled_by"] == "reviewer" and resp.json()["source"] == "api"
    after = client.get("/api/kpi", headers=_h(users, "viewer")).json()["accuracy"]
    value, n = seeded.expected_accuracy()
    assert after["n"] == before["n"] + 1 == n
    assert after["value_pct"] == pytest.approx(value) and after["value_pct"] < before["value_pct"]


def test_batch_with_idempotency_key_is_stored_once(
    client: Client, seeded: Seeded, users: Users
) -> None:
    rows = run_assignments(seeded.store, seeded.runs[1]).head(5)
    body = {"labels": [{"customer_id": c, "segment": s} for c, s, _ in rows.iter_rows()]}
    before = label_history(seeded.store).height
    headers = _h(users, "reviewer", **{"Idempotency-Key": "batch-1"})
    first = client.post("/api/labels/batch", json=body, headers=headers)
    again = client.post("/api/labels/batch", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert label_history(seeded.store).height == before + 5
    changed = {"labels": body["labels"][:4]}
    assert client.post("/api/labels/batch", json=changed, headers=headers).status_code == 409


def test_a_batch_with_one_bad_row_stores_nothing(
    client: Client, seeded: Seeded, users: Users
) -> None:
    cid, seg = run_assignments(seeded.store, seeded.runs[1]).row(0)[:2]
    before = label_history(seeded.store).height
    body = {
        "labels": [
            {"customer_id": cid, "segment": seg},
            {"customer_id": cid, "segment": "No Such Segment"},
        ]
    }
    resp = client.post("/api/labels/batch", json=body, headers=_h(users, "reviewer"))
    assert resp.status_code == 422 and "No Such Segment" in resp.json()["detail"]
    unknown = {"labels": [{"customer_id": "zz-unknown", "segment": seg}]}
    resp = client.post("/api/labels/batch", json=unknown, headers=_h(users, "reviewer"))
    assert resp.status_code == 422 and "in no segmentation run" in resp.json()["detail"]
    assert label_history(seeded.store).height == before


def test_labels_listing_and_customer(client: Client, seeded: Seeded, users: Users) -> None:
    cid = seeded.labelled[0]
    got = client.get(f"/api/labels?customer_id={cid}", headers=_h(users, "viewer")).json()
    assert [lab["customer_id"] for lab in got["labels"]] == [cid]
    paged = client.get("/api/labels?limit=5&offset=20", headers=_h(users, "viewer")).json()
    assert len(paged["labels"]) == 4  # 24 seeded labels
    cust = client.get(f"/api/customers/{cid}", headers=_h(users, "viewer")).json()
    assert [s["run_id"] for s in cust["segments"]] == list(seeded.runs)
    assert (
        cust["current_label"]
        == current_labels(seeded.store).filter(customer_id=cid)["segment"].item()
    )
    assert set(cust["features"]) == {"days_since_last_purchase", "n_orders", "total_spend"}
    assert client.get("/api/customers/nope", headers=_h(users, "viewer")).status_code == 404


def test_history_and_runs(client: Client, seeded: Seeded, users: Users) -> None:
    hist = client.get("/api/kpi/history?metric=accuracy", headers=_h(users, "viewer")).json()
    stored = kpi_table(seeded.store, "accuracy").sort("period")
    assert [h["period"] for h in hist] == stored["period"].to_list() == ["2011Q2", "2011Q3"]
    assert hist[1]["change_pts"] == pytest.approx(stored["value"][1] - stored["value"][0])
    runs = client.get("/api/runs", headers=_h(users, "viewer")).json()
    assert [r["id"] for r in runs] == list(seeded.runs)
    assert client.get("/api/runs/999", headers=_h(users, "viewer")).status_code == 404


def test_score_uses_the_current_runs_model(client: Client, seeded: Seeded, users: Users) -> None:
    # The current run was an RFMSegmenter fitted on rfm_features(120, seed=2): refit the same
    # way independently and compare the segments of new customers.
    fitted = RFMSegmenter().fit(rfm_features(120, 2))
    new = rfm_features(15, 99).with_columns("new-" + rfm_features(15, 99)["customer_id"])
    want = fitted.assign(new).select("customer_id", "segment").rows()
    resp = client.post(
        "/api/score", json={"customers": new.to_dicts()}, headers=_h(users, "analyst")
    )
    assert resp.status_code == 200, resp.text
    got = [(a["customer_id"], a["segment"]) for a in resp.json()["assignments"]]
    assert got == want and resp.json()["run_id"] == seeded.runs[1]
    missing = client.post(
        "/api/score",
        json={"customers": [{"customer_id": "x", "n_orders": 3}]},
        headers=_h(users, "analyst"),
    )
    assert missing.status_code == 422 and "days_since_last_purchase" in missing.text


def test_score_refuses_a_model_it_cannot_reproduce(
    app: FastAPI, seeded: Seeded, users: Users
) -> None:
    from seglens.store import record_run

    feats = rfm_features(30, 5)
    fake = feats.select("customer_id").with_columns(segment=__import__("polars").lit("Odd"))
    record_run(
        seeded.store,
        fake,
        segmenter="RFMSegmenter",
        parameters={},
        as_of=__import__("datetime").date(2011, 12, 31),
        data_hash="x",
        features=feats,
    )
    c = Client(app)
    resp = c.post(
        "/api/score",
        json={"customers": feats.head(2).to_dicts()},
        headers=_h(users, "analyst"),
    )
    assert resp.status_code == 409 and "not the run's model" in resp.json()["detail"]
    c.close()


def test_wrong_labels_lower_accuracy_exactly(client: Client, seeded: Seeded, users: Users) -> None:
    """Known answer: confirm every unlabelled customer -> accuracy = (hits + k) / (n + k)."""
    latest = run_assignments(seeded.store, seeded.runs[1])
    todo = latest.filter(~latest["customer_id"].is_in(seeded.labelled)).head(10)
    body = {"labels": [{"customer_id": c, "segment": s} for c, s, _ in todo.iter_rows()]}
    assert (
        client.post("/api/labels/batch", json=body, headers=_h(users, "reviewer")).status_code
        == 201
    )
    truth = current_labels(seeded.store).join(latest, on="customer_id", suffix="_run")
    want = customer_accuracy(truth["segment"], truth["segment_run"], match="names")
    got = client.get("/api/kpi", headers=_h(users, "viewer")).json()["accuracy"]
    assert (got["value_pct"], got["n"]) == (pytest.approx(want.value_pct), want.n)
    assert got["n"] == len(seeded.labelled) + 10
