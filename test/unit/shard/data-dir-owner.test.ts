import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  type DataDirOwner,
  inUseMessage,
  ownerPath,
  readOwner,
  removeOwner,
  writeOwner,
} from "../../../src/shard/data-dir-owner.js";

const owner: DataDirOwner = {
  pid: 4242,
  host: "box",
  shardId: "docs/g-abc/shard-0",
  startedAt: "2026-05-09T10:00:00.000Z",
};

describe("inUseMessage", () => {
  const cases: {
    when: string;
    facts: Parameters<typeof inUseMessage>[1];
    has: string[];
  }[] = [
    {
      when: "the recorded holder is alive on this host",
      facts: { owner, ownerAlive: true, thisHost: "box" },
      has: [
        "data dir /d is held by another shard process, pid 4242",
        'shard "docs/g-abc/shard-0"',
        "kill 4242",
        "--data-dir",
      ],
    },
    {
      when: "the recorded holder is on another host",
      facts: { owner, ownerAlive: false, thisHost: "other" },
      has: ['held by shard "docs/g-abc/shard-0" on host box (pid 4242 there', "--data-dir"],
    },
    {
      when: "the recorded pid is not running",
      facts: { owner, ownerAlive: false, thisHost: "box" },
      has: [
        "held by another process",
        "owner.json names pid 4242, which is not running",
        "fuser -v /d/shard.db",
      ],
    },
    {
      when: "there is no record",
      facts: { owner: undefined, ownerAlive: false, thisHost: "box" },
      has: ["held by another process", "no readable owner.json", "fuser -v /d/shard.db"],
    },
  ];
  for (const c of cases) {
    it(`when ${c.when}, then the message says who and how to fix it`, () => {
      const message = inUseMessage("/d", c.facts);
      for (const part of c.has) expect(message).toContain(part);
    });
  }
});

describe("owner.json", () => {
  const dir = mkdtempSync(join(tmpdir(), "embedops-owner-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("when written, then it reads back; when another pid removes it, then it stays; when its pid does, then it goes", () => {
    writeOwner(dir, owner);
    expect(readOwner(dir)).toEqual(owner);
    removeOwner(dir, 1);
    expect(readOwner(dir)).toEqual(owner);
    removeOwner(dir, 4242);
    expect(readOwner(dir)).toBeUndefined();
  });

  it("when the file is garbled, then there is no owner rather than an error", () => {
    writeFileSync(ownerPath(dir), "{not json");
    expect(readOwner(dir)).toBeUndefined();
    writeFileSync(ownerPath(dir), JSON.stringify({ pid: "x" }));
    expect(readOwner(dir)).toBeUndefined();
  });
});
