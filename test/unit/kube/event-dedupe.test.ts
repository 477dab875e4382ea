import { describe, expect, it } from "vitest";
import { EventDeduper } from "../../../src/kube/events.js";

const WINDOW = 600_000;

describe("EventDeduper", () => {
  it("when an event is first seen, then a new Event is created", () => {
    expect(new EventDeduper(WINDOW).decide("k", 0)).toEqual({ action: "create" });
  });

  it("when the same event repeats within the window, then the series count grows on the same Event", () => {
    const d = new EventDeduper(WINDOW);
    d.created("k", "docs.abc", "search", 0);
    const second = d.decide("k", 1000);
    expect(second).toEqual({ action: "increment", name: "docs.abc", namespace: "search", count: 2 });
    d.incremented("k", 2, 1000);
    expect(d.decide("k", 2000)).toMatchObject({ action: "increment", count: 3 });
  });

  it("when the same event repeats after the window, then a new Event is created", () => {
    const d = new EventDeduper(WINDOW);
    d.created("k", "docs.abc", "search", 0);
    expect(d.decide("k", WINDOW + 1)).toEqual({ action: "create" });
  });

  it("when a series keeps repeating, then the window slides with the last occurrence", () => {
    const d = new EventDeduper(WINDOW);
    d.created("k", "docs.abc", "search", 0);
    d.incremented("k", 2, WINDOW);
    expect(d.decide("k", WINDOW * 2)).toMatchObject({ action: "increment", count: 3 });
  });

  it("when another key is recorded, then entries older than the window are pruned", () => {
    const d = new EventDeduper(WINDOW);
    d.created("old", "a", "ns", 0);
    d.created("new", "b", "ns", WINDOW + 1);
    expect(d.size).toBe(1);
  });
});
