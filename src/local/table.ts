// A plain-text table for terminals: columns padded to their widest cell, the last column cut to fit.

export function formatTable(headers: string[], rows: string[][], maxWidth = 120): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const lastIndex = headers.length - 1;
  const fixed = widths.slice(0, lastIndex).reduce((a, w) => a + w + 2, 0);
  widths[lastIndex] = Math.min(widths[lastIndex] ?? 0, Math.max(10, maxWidth - fixed));
  const cell = (text: string, i: number) => {
    const w = widths[i] ?? text.length;
    const cut = text.length > w ? `${text.slice(0, Math.max(0, w - 1))}…` : text;
    return i === lastIndex ? cut : cut.padEnd(w);
  };
  const line = (cells: string[]) => cells.map(cell).join("  ").trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
