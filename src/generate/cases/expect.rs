//! A hospital's chunk finished: its files' text and the results a run must give.

use super::*;

impl Gen<'_> {
    pub(super) fn finish(mut self) -> Chunk {
        let setls = std::mem::take(&mut self.setls);
        let h = self.h;
        let mut setlinfo = String::with_capacity(setls.len() * 400);
        let mut feedetail =
            String::with_capacity(setls.iter().map(|s| s.lines.len()).sum::<usize>() * 160);
        setlinfo.push_str(SETLINFO_HEADER);
        feedetail.push_str(FEEDETAIL_HEADER);
        let mut summary: BTreeMap<SummaryKey, SummarySums> = BTreeMap::new();
        let mut persons: BTreeMap<(String, String, String), HashSet<String>> = BTreeMap::new();
        for (k, s) in setls.iter().enumerate() {
            let line = k + 2;
            write_setlinfo(&mut setlinfo, h, s);
            if !s.copy {
                for l in &s.lines {
                    if Some(l.sn) != s.dropped_line {
                        write_line(&mut feedetail, self.shared.items, s, l);
                        self.chunk.fee_lines += 1;
                    }
                }
            }
            let day = s.setl_time.date();
            if day >= self.first && day <= self.last {
                let e = summary
                    .entry((s.person.insutype, s.clr_type(), s.reversal as u8))
                    .or_default();
                e.0 += 1;
                e.1 += s.m.medfee;
                e.2 += s.m.fund;
                e.3 += s.m.acct;
            }
            // What the run must give this row.
            let deducted: i64 = s
                .expects
                .iter()
                .filter(|e| e.level == "deduct")
                .map(|e| self.resolve(s, e.amount).unwrap_or(0))
                .sum();
            let held = s.expects.iter().any(|e| e.level == "hold");
            let status = if s.excluded {
                "excluded"
            } else if s.reversed {
                "reversed"
            } else if held {
                "held"
            } else {
                "cleared"
            };
            let (disputed, held_amount, cleared) = match status {
                "cleared" => {
                    let disputed = deducted.min(s.m.hifp).max(0);
                    (disputed, 0, s.m.fund - disputed)
                }
                "held" => (0, s.m.fund, 0),
                _ => (0, 0, 0),
            };
            let _ = writeln!(
                self.chunk.settlements,
                "{},{},{line},{status},{},{},{},{},{}",
                h.code,
                s.id,
                s.matched
                    .as_deref()
                    .filter(|_| !s.excluded && !s.reversal && !s.copy)
                    .unwrap_or(""),
                s.expected_hifp.map(money).unwrap_or_default(),
                money(disputed),
                money(held_amount),
                money(cleared)
            );
            for e in &s.expects {
                let amount = self.resolve(s, e.amount);
                let _ = writeln!(
                    self.chunk.findings,
                    "{},{},{},{},{},{},{},{},{},{}",
                    e.rule,
                    e.level,
                    h.code,
                    s.id,
                    e.feedetl_sn.map(|n| n.to_string()).unwrap_or_default(),
                    e.trt.as_deref().unwrap_or(""),
                    s.person.psn_no,
                    s.person.insured,
                    h.area,
                    amount.map(money).unwrap_or_default()
                );
            }
            if status != "excluded" {
                let key = (
                    s.person.insured.clone(),
                    h.area.clone(),
                    s.clr_type().to_owned(),
                );
                let agg = self.chunk.clearing.entry(key.clone()).or_default();
                if status == "reversed" {
                    agg.reversed_cnt += 1;
                } else {
                    agg.setl_cnt += 1;
                    persons
                        .entry(key)
                        .or_default()
                        .insert(s.person.psn_no.clone());
                    let m = &s.m;
                    let row = [
                        m.medfee,
                        m.hifp,
                        m.hifmi,
                        m.hifob,
                        m.maf,
                        m.cvlserv + m.hifes + m.oth,
                        m.fund,
                        m.acct,
                        m.cash,
                        held_amount,
                        disputed,
                        cleared,
                    ];
                    for (a, v) in agg.money.iter_mut().zip(row) {
                        *a += v;
                    }
                }
            }
        }
        for (key, set) in persons {
            if let Some(agg) = self.chunk.clearing.get_mut(&key) {
                agg.persons = set.len() as u64;
            }
        }
        if h.summary {
            let mut text = String::from(SUMMARY_HEADER);
            for (n, ((insutype, clr_type, refd), (cnt, medfee, fund, acct))) in
                summary.iter().enumerate()
            {
                let cnt = if h.summary_off && n == 0 {
                    cnt + 1
                } else {
                    *cnt
                };
                let _ = writeln!(
                    text,
                    "{},{insutype},{clr_type},{},{},{refd},{cnt},{},{},{}",
                    h.code,
                    self.first,
                    self.last,
                    money(*medfee),
                    money(*fund),
                    money(*acct)
                );
            }
            if h.summary_off && !summary.is_empty() {
                let _ = writeln!(
                    self.chunk.findings,
                    "AMT003,flag,{},,,,,{},{},",
                    h.code, h.area, h.area
                );
            }
            self.chunk.summary = Some(text);
        }
        self.chunk.settlement_rows = setls.len() as u64;
        self.chunk.setlinfo = setlinfo;
        self.chunk.feedetail = feedetail;
        self.chunk
    }

    pub(super) fn resolve(&self, s: &Setl, amount: Amount) -> Option<i64> {
        match amount {
            Amount::Null => None,
            Amount::Fund => Some(s.m.fund),
            Amount::Fixed(v) => Some(v),
            Amount::Disallowed(d) => Some(if s.m.inscp == 0 {
                0
            } else {
                div_round(d as i128 * s.m.hifp as i128, s.m.inscp as i128) as i64
            }),
        }
    }
}
