#!/usr/bin/env python3
"""The obvious alternative to `yidi run`: the heavy rules of SPEC §4–§7 as plain DuckDB SQL
over the same month directory, for scripts/bench.sh to time against yidi.

What it does, as a user would write it: read every CSV (transcoding GBK exports to UTF-8
first, since DuckDB reads UTF-8 only), then in SQL: the scope (PER001, RTE001), filing
matching with the reasons FIL001-FIL006, the catalogue join (CAT001, CAT002, CAT004 with
the fund-ratio scaling), the settlement identities and line sums (AMT001, AMT002, AMT004),
duplicate claims and overlapping stays (DUP001-DUP003), the policy payment with a per-visit
deductible or the year-to-date one (POL001/POL002; the sequential accumulation within the
month is left out: SQL has no natural form for it), and the clearing by province pair.
It writes findings.csv and clearing_by_province.csv into OUT.

It does less than yidi (no rejects or row-level validation, no FIL007/REG/HOS/REV rules, no
reports), so the comparison flatters DuckDB.

usage: duckdb_rules.py MONTH_DIR OUT_DIR [--threads N]
"""

import os
import sys
import tempfile

import duckdb


def utf8_copy(path, tmp):
    """The file itself if it is UTF-8, else a UTF-8 copy of it (GB18030 read strictly)."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        data.decode("utf-8")
        return path
    except UnicodeDecodeError:
        pass
    text = data.decode("gb18030")
    out = os.path.join(tmp, path.replace(os.sep, "_"))
    with open(out, "w", encoding="utf-8") as f:
        f.write(text)
    return out


def main():
    month_dir, out_dir = sys.argv[1], sys.argv[2]
    threads = int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else 2
    month = os.path.basename(os.path.normpath(month_dir))
    os.makedirs(out_dir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="duckdb-rules-")
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    exports = os.path.join(month_dir, "exports")
    hospitals = sorted(os.listdir(exports))

    def files(name):
        paths = [os.path.join(exports, h, name) for h in hospitals]
        return [utf8_copy(p, tmp) for p in paths if os.path.exists(p)]

    def read(name, paths):
        listing = ", ".join("'" + p + "'" for p in paths)
        con.execute(
            f"CREATE TABLE {name} AS SELECT * FROM read_csv([{listing}], header=true, "
            "all_varchar=true, union_by_name=true)"
        )

    read("setlinfo", files("setlinfo.csv"))
    read("feedetail", files("feedetail.csv"))
    for name in ["hospitals", "catalogue", "policy", "regions", "opsp_diseases"]:
        read(name, [os.path.join(month_dir, "reference", f"{name}.csv")])
    read("filings", [os.path.join(month_dir, "filings.csv")])
    has_ytd = os.path.exists(os.path.join(month_dir, "ytd.csv"))
    if has_ytd:
        read("ytd", [os.path.join(month_dir, "ytd.csv")])
    else:
        con.execute("CREATE TABLE ytd (psn_no VARCHAR, insutype VARCHAR, med_grp VARCHAR, "
                    "year VARCHAR, dedc_used VARCHAR, hifp_paid VARCHAR)")

    year = month[:4]
    sql = f"""
CREATE TABLE s AS
SELECT st.*, row_number() OVER () AS rid,
       CAST(st.medfee_sumamt AS DECIMAL(18,2)) AS medfee, CAST(st.fund_pay_sumamt AS DECIMAL(18,2)) AS fund,
       CAST(st.hifp_pay AS DECIMAL(18,2)) AS hifp, CAST(st.inscp_scp_amt AS DECIMAL(18,2)) AS inscp,
       CAST(st.begndate AS DATE) AS d, CAST(st.setl_time AS TIMESTAMP) AS t,
       coalesce(h.fix_blng_admdvs, st.mdtrtarea_admvs) AS tplace, h.hosp_lv,
       CASE WHEN h.hosp_lv IN ('01','02','03','04','12') THEN '3'
            WHEN h.hosp_lv IN ('05','06','07','13') THEN '2' WHEN h.hosp_lv IS NULL THEN NULL ELSE '1' END AS tier,
       CASE WHEN st.med_type IN ('21','22','23','24') THEN 'ip' WHEN st.med_type = '14' THEN 'opsp' ELSE 'op' END AS grp
FROM setlinfo st LEFT JOIN hospitals h USING (fixmedins_code);

CREATE TABLE scope AS
SELECT *, CASE WHEN strftime(t, '%Y-%m') <> '{month}' THEN 'PER001'
               WHEN insuplc_admdvs = tplace THEN 'RTE001' END AS excluded,
       row_number() OVER (PARTITION BY fixmedins_code, setl_id ORDER BY rid) > 1 AS copy
FROM s;

CREATE TABLE checked AS SELECT * FROM scope WHERE excluded IS NULL AND NOT copy AND refd_setl_flag = '0';

-- Filing matching (SPEC §4), with the reason when nothing matches.
CREATE TABLE need AS SELECT * FROM checked WHERE substr(insuplc_admdvs,1,2) <> substr(tplace,1,2);
CREATE TABLE cand AS
SELECT n.rid, f.trt_dcla_detl_sn,
       (f.rloc_admdvs = n.tplace OR f.rloc_admdvs = substr(n.tplace,1,2) || '0000') AS covers,
       CAST(f.begndate AS DATE) <= n.d AS a,
       (f.enddate IS NULL OR n.d <= CAST(f.enddate AS DATE)) AS b,
       (f.vali_flag = '1' OR n.d < CAST(CAST(f.updt_time AS TIMESTAMP) AS DATE)) AS c,
       CAST(f.crte_time AS TIMESTAMP) <= n.t AS dd
FROM need n JOIN filings f ON f.psn_no = n.psn_no AND f.insutype = n.insutype AND f.insu_admdvs = n.insuplc_admdvs;
CREATE TABLE reasons AS
SELECT n.rid,
  CASE WHEN bool_or(covers AND a AND b AND c AND dd) THEN NULL
       WHEN n.emg_flag = '1' OR n.med_type IN ('13','24') THEN NULL
       WHEN bool_or(covers AND a AND b AND NOT c) THEN 'FIL004'
       WHEN bool_or(covers AND a AND NOT b) THEN 'FIL002'
       WHEN bool_or(covers AND b AND NOT a) THEN 'FIL003'
       WHEN bool_or(covers AND a AND b AND c AND NOT dd) THEN 'FIL005'
       WHEN bool_or(NOT covers AND a AND b AND c) THEN 'FIL006'
       ELSE 'FIL001' END AS rule
FROM need n LEFT JOIN cand USING (rid) GROUP BY n.rid, n.emg_flag, n.med_type;

-- Catalogue (treatment province's row valid on the line's date, latest begndate).
CREATE TABLE lines AS
SELECT c.rid, c.hifp, c.inscp, fd.feedetl_sn, fd.med_list_codg,
       CAST(fd.cnt AS DECIMAL(18,4)) AS cnt, CAST(fd.pric AS DECIMAL(18,6)) AS pric,
       CAST(fd.det_item_fee_sumamt AS DECIMAL(18,2)) AS sumamt, CAST(fd.inscp_scp_amt AS DECIMAL(18,2)) AS l_inscp,
       CAST(fd.fulamt_ownpay_amt AS DECIMAL(18,2)) + CAST(fd.overlmt_amt AS DECIMAL(18,2))
         + CAST(fd.preselfpay_amt AS DECIMAL(18,2)) + CAST(fd.inscp_scp_amt AS DECIMAL(18,2)) AS parts,
       CAST(CAST(fd.fee_ocur_time AS TIMESTAMP) AS DATE) AS day, substr(c.tplace,1,2) AS prov
FROM checked c JOIN feedetail fd ON fd.setl_id = c.setl_id
  AND fd.setl_id IS NOT NULL;
CREATE TABLE cat AS
SELECT prov, med_list_codg, chrgitm_lv, CAST(begndate AS DATE) AS bd,
       CAST(enddate AS DATE) AS ed, CAST(nullif(pric_uplmt_amt,'') AS DECIMAL(18,2)) AS ceiling
FROM catalogue;
CREATE TABLE line_cat AS
SELECT l.*, arg_max(k.chrgitm_lv, k.bd) AS lv, arg_max(k.ceiling, k.bd) AS ceiling, count(k.bd) AS rows
FROM lines l LEFT JOIN cat k ON k.prov = l.prov AND k.med_list_codg = l.med_list_codg
  AND k.bd <= l.day AND (k.ed IS NULL OR l.day <= k.ed)
GROUP BY ALL;
CREATE TABLE cat_findings AS
SELECT rid, feedetl_sn, rule, CASE WHEN inscp = 0 THEN 0 ELSE round(disallowed * hifp / inscp, 2) END AS amount
FROM (
  SELECT *, 'CAT001' AS rule, l_inscp AS disallowed FROM line_cat WHERE rows = 0 AND l_inscp > 0
  UNION ALL SELECT *, 'CAT002', l_inscp FROM line_cat WHERE rows > 0 AND lv = '03' AND l_inscp > 0
  UNION ALL SELECT *, 'CAT004', least(l_inscp, round((pric - ceiling) * cnt, 2)) FROM line_cat
    WHERE rows > 0 AND lv IN ('01','02') AND ceiling IS NOT NULL AND pric > ceiling
      AND least(l_inscp, round((pric - ceiling) * cnt, 2)) > 0);

-- Amounts.
CREATE TABLE line_sums AS SELECT rid, sum(sumamt) AS total, sum(l_inscp) AS inscp_total, count(*) AS n FROM lines GROUP BY rid;
CREATE TABLE amt AS
SELECT c.rid, 'AMT002' AS rule FROM checked c LEFT JOIN line_sums l USING (rid)
WHERE l.n IS NULL OR l.total <> c.medfee OR l.inscp_total <> c.inscp
UNION ALL
SELECT rid, 'AMT001' FROM checked WHERE
  medfee <> CAST(fulamt_ownpay_amt AS DECIMAL(18,2)) + CAST(overlmt_selfpay AS DECIMAL(18,2)) + CAST(preselfpay_amt AS DECIMAL(18,2)) + inscp
  OR fund <> hifp + CAST(cvlserv_pay AS DECIMAL(18,2)) + CAST(hifes_pay AS DECIMAL(18,2)) + CAST(hifmi_pay AS DECIMAL(18,2)) + CAST(hifob_pay AS DECIMAL(18,2)) + CAST(maf_pay AS DECIMAL(18,2)) + CAST(oth_pay AS DECIMAL(18,2))
  OR CAST(psn_part_amt AS DECIMAL(18,2)) <> CAST(acct_pay AS DECIMAL(18,2)) + CAST(psn_cash_pay AS DECIMAL(18,2))
  OR medfee <> fund + CAST(psn_part_amt AS DECIMAL(18,2)) + coalesce(CAST(nullif(hosp_part_amt,'') AS DECIMAL(18,2)), 0);
CREATE TABLE amt004 AS SELECT rid, feedetl_sn FROM lines WHERE abs(sumamt - cnt * pric) > 0.01 OR parts <> sumamt;

-- Duplicates.
CREATE TABLE dup AS
SELECT rid, 'DUP002' AS rule FROM (
  SELECT rid, row_number() OVER (PARTITION BY psn_no, fixmedins_code, med_type, begndate, enddate, medfee ORDER BY t, fixmedins_code, setl_id) AS k
  FROM checked) WHERE k > 1
UNION ALL
SELECT DISTINCT b.rid, 'DUP003' FROM checked a JOIN checked b ON a.psn_no = b.psn_no AND a.rid <> b.rid
  AND a.grp = 'ip' AND b.grp = 'ip' AND a.d < CAST(b.enddate AS DATE) AND b.d < CAST(a.enddate AS DATE)
  AND (a.d, a.t, a.fixmedins_code, a.setl_id) < (b.d, b.t, b.fixmedins_code, b.setl_id)
UNION ALL SELECT rid, 'DUP001' FROM scope WHERE copy AND excluded IS NULL;

-- Policy (SPEC §6): the first level with a row, the latest begndate; year-to-date figures.
CREATE TABLE pol AS
SELECT insuplc_admdvs AS place, insutype, med_grp, dedc_hosp_lv AS lvl, CAST(dedc_std AS DECIMAL(18,2)) AS dedc_std,
       dedc_basis, CAST(pool_prop AS DECIMAL(18,4)) AS pool, CAST(cap_year AS DECIMAL(18,2)) AS cap,
       CAST(begndate AS DATE) AS bd, CAST(enddate AS DATE) AS ed FROM policy;
CREATE TABLE pick AS
SELECT rid, arg_min(dedc_std, key) AS dedc_std, arg_min(dedc_basis, key) AS basis,
       arg_min(pool, key) AS pool, arg_min(cap, key) AS cap
FROM (
  SELECT c.rid, p.*,
    ((CASE WHEN p.place = c.insuplc_admdvs THEN 0 ELSE 2 END) + (CASE WHEN p.lvl = '*' THEN 1 ELSE 0 END))
      * 10000000000 - epoch(p.bd) AS key
  FROM checked c JOIN pol p ON p.insutype = c.insutype AND p.med_grp = c.grp
    AND p.bd <= c.d AND (p.ed IS NULL OR c.d <= p.ed)
    AND (p.place = c.insuplc_admdvs OR p.place = substr(c.insuplc_admdvs,1,2) || '0000')
    AND (p.lvl = c.tier OR p.lvl = '*')
) GROUP BY rid;
CREATE TABLE ytd_sum AS SELECT psn_no, insutype, med_grp, sum(CAST(dedc_used AS DECIMAL(18,2))) AS used,
  sum(CAST(hifp_paid AS DECIMAL(18,2))) AS paid FROM ytd WHERE year = '{year}' GROUP BY ALL;
CREATE TABLE expected AS
SELECT c.rid, c.hifp, round(least(greatest(c.inscp - CASE WHEN k.basis = 'year' THEN greatest(k.dedc_std - coalesce(y.used,0), 0) ELSE k.dedc_std END, 0) * k.pool,
                            greatest(k.cap - coalesce(y.paid,0), 0)), 2) AS expected_hifp
FROM checked c JOIN pick k USING (rid) LEFT JOIN ytd_sum y ON y.psn_no = c.psn_no AND y.insutype = c.insutype AND y.med_grp = c.grp;
CREATE TABLE pol_findings AS
SELECT rid, 'POL001' AS rule, hifp - expected_hifp AS amount FROM expected WHERE hifp - expected_hifp > 0.01
UNION ALL SELECT rid, 'POL002', expected_hifp - hifp FROM expected WHERE expected_hifp - hifp > 0.01;

-- Findings and the clearing.
CREATE TABLE findings AS
SELECT rid, rule, NULL AS feedetl_sn, NULL::DECIMAL(18,2) AS amount, true AS hold FROM reasons WHERE rule IS NOT NULL
UNION ALL SELECT rid, rule, NULL, NULL, true FROM amt
UNION ALL SELECT rid, rule, NULL, NULL, rule <> 'DUP002' FROM dup
UNION ALL SELECT rid, rule, feedetl_sn, amount, false FROM cat_findings
UNION ALL SELECT rid, 'AMT004', feedetl_sn, NULL, false FROM amt004
UNION ALL SELECT rid, rule, NULL, amount, false FROM pol_findings
UNION ALL SELECT rid, excluded, NULL, NULL, false FROM scope WHERE excluded IS NOT NULL;
CREATE TABLE status AS
SELECT sc.rid, sc.insuplc_admdvs, sc.tplace, sc.fund, sc.hifp,
  EXISTS (SELECT 1 FROM findings f WHERE f.rid = sc.rid AND f.hold) AS held,
  least(coalesce((SELECT sum(amount) FROM findings f WHERE f.rid = sc.rid AND f.rule IN ('CAT001','CAT002','CAT004','POL001')), 0), sc.hifp) AS disputed
FROM scope sc WHERE sc.excluded IS NULL;
CREATE TABLE clearing_by_province AS
SELECT substr(insuplc_admdvs,1,2) AS insured_prov, substr(tplace,1,2) AS treatment_prov, count(*) AS setl_cnt,
  sum(fund) AS fund_pay_sumamt, sum(CASE WHEN held THEN fund ELSE 0 END) AS held_amount,
  sum(CASE WHEN held THEN 0 ELSE disputed END) AS disputed_amount,
  sum(CASE WHEN held THEN 0 ELSE fund - disputed END) AS cleared_amount
FROM status GROUP BY ALL ORDER BY ALL;
"""
    con.execute(sql)
    con.execute(
        f"COPY (SELECT s.fixmedins_code, s.setl_id, f.feedetl_sn, f.rule, f.amount FROM findings f "
        f"JOIN scope s USING (rid) ORDER BY ALL) TO '{out_dir}/findings.csv' (HEADER)"
    )
    con.execute(f"COPY clearing_by_province TO '{out_dir}/clearing_by_province.csv' (HEADER)")
    n = con.execute("SELECT count(*) FROM findings").fetchone()[0]
    print(f"duckdb: {n} findings", file=sys.stderr)


if __name__ == "__main__":
    main()
