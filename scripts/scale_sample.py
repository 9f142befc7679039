#!/usr/bin/env python3
"""Scales the bundled sample month up for a rough throughput measurement, until
`yidi generate` (issue 7) exists: every hospital is copied H times (new codes) and every
settlement, with its fee lines, person, filings and enrollment, R times within each copy.

    python3 scripts/scale_sample.py OUT_ROOT --hospitals 50 --rows 200
    yidi run OUT_ROOT/2026-10 --out /tmp/out

Each copy keeps the sample's anomalies, so the findings scale with it.
"""
import argparse, os, shutil

SAMPLE = os.path.join(os.path.dirname(__file__), "..", "sample_data", "2026-10")


def read(path):
    data = open(path, "rb").read()
    for enc, bom in (("utf-8", b"\xef\xbb\xbf"), ("gb18030", b"")):
        try:
            body = data[len(bom):] if bom and data.startswith(bom) else data
            return body.decode(enc), enc, data.startswith(b"\xef\xbb\xbf")
        except UnicodeDecodeError:
            continue
    raise SystemExit(f"{path}: undecodable")


def write(path, lines, enc="utf-8", bom=False):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    data = "\n".join(lines) + "\n"
    with open(path, "wb") as f:
        f.write((b"\xef\xbb\xbf" if bom else b"") + data.encode(enc))


def table(path):
    text, enc, bom = read(path)
    lines = text.splitlines()
    return lines[0].split(","), [l.split(",") for l in lines[1:] if l], enc, bom


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--hospitals", type=int, default=10)
    ap.add_argument("--rows", type=int, default=10)
    a = ap.parse_args()
    month = os.path.join(a.out, "2026-10")
    shutil.rmtree(month, ignore_errors=True)
    shutil.copytree(os.path.join(SAMPLE, "reference"), os.path.join(month, "reference"))
    copies = [(h, r) for h in range(a.hospitals) for r in range(a.rows)]
    suffix = lambda h, r: f"x{h}y{r}"
    # Persons, their filings, enrollment and ytd, once per (hospital copy, row copy).
    for name, keys in (("filings.csv", ("trt_dcla_detl_sn", "psn_no")), ("enrollment.csv", ("psn_no",)), ("ytd.csv", ("psn_no",))):
        header, rows, enc, bom = table(os.path.join(SAMPLE, name))
        idx = [header.index(k) for k in keys]
        out = [",".join(header)]
        for h, r in copies:
            for row in rows:
                row = list(row)
                for i in idx:
                    row[i] += suffix(h, r)
                out.append(",".join(row))
        write(os.path.join(month, name), out)
    header, hospitals, _, _ = table(os.path.join(SAMPLE, "reference", "hospitals.csv"))
    code = lambda c, h: c if h == 0 else c[:7] + f"{h:03d}" + c[-2:]
    out = [",".join(header)] + [",".join([code(r[0], h)] + r[1:]) for h in range(a.hospitals) for r in hospitals]
    write(os.path.join(month, "reference", "hospitals.csv"), out)
    for d in sorted(os.listdir(os.path.join(SAMPLE, "exports"))):
        for h in range(a.hospitals):
            target = os.path.join(month, "exports", code(d, h))
            for name in ("setlinfo.csv", "feedetail.csv"):
                header, rows, enc, bom = table(os.path.join(SAMPLE, "exports", d, name))
                cols = [c for c in ("setl_id", "psn_no", "init_setl_id") if c in header]
                out = [",".join(header)]
                for r in range(a.rows):
                    for row in rows:
                        row = list(row)
                        for c in cols:
                            if row[header.index(c)]:
                                row[header.index(c)] += suffix(h, r)
                        if "fixmedins_code" in header:
                            row[header.index("fixmedins_code")] = code(d, h)
                        out.append(",".join(row))
                write(os.path.join(target, name), out, enc, bom)
    print(month)


if __name__ == "__main__":
    main()
