import { describe, expect, it } from "vitest";
import { listeningUrl } from "../../../src/local/child-process.js";
import { parseDocumentLine } from "../../../src/local/jsonl-documents.js";

describe("parseDocumentLine", () => {
  it("when the line is a valid document, then it is returned", () => {
    expect(parseDocumentLine('{"id":"a","text":"hello","metadata":{"lang":"en"}}', 1)).toEqual({
      id: "a",
      text: "hello",
      metadata: { lang: "en" },
    });
  });
  it.each([
    ["{not json", /line 3: not valid JSON/],
    ['{"id":"a"}', /line 3: text: /],
    ['{"id":"a","text":"t","extra":1}', /line 3: .*extra/],
    ['{"id":"","text":"t"}', /line 3: id: /],
  ])("when the line is %s, then the error names the line and the field", (line, message) => {
    expect(() => parseDocumentLine(line, 3)).toThrow(message);
  });
});

describe("listeningUrl", () => {
  it.each([
    ['{"level":"info","msg":"listening","url":"http://127.0.0.1:4000"}', "http://127.0.0.1:4000"],
    ['{"level":"info","msg":"loaded"}', undefined],
    ["listening on 4000", undefined],
  ])("when the line is %s, then the URL is %s", (line, url) => {
    expect(listeningUrl(line)).toBe(url);
  });
});
