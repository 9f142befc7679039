//! The CSV text of the generated files, row by row.

use super::*;

pub const SETLINFO_HEADER: &str = "setl_id,mdtrt_id,psn_no,certno,psn_name,insutype,insuplc_admdvs,fixmedins_code,mdtrtarea_admvs,med_type,clr_type,emg_flag,begndate,enddate,setl_time,dise_codg,opsp_dise_code,medfee_sumamt,fulamt_ownpay_amt,overlmt_selfpay,preselfpay_amt,inscp_scp_amt,act_pay_dedc,hifp_pay,cvlserv_pay,hifes_pay,hifmi_pay,hifob_pay,maf_pay,oth_pay,fund_pay_sumamt,psn_part_amt,acct_pay,psn_cash_pay,hosp_part_amt,refd_setl_flag,init_setl_id\n";
pub const FEEDETAIL_HEADER: &str = "setl_id,feedetl_sn,fee_ocur_time,med_list_codg,medins_list_codg,med_chrgitm_type,cnt,pric,det_item_fee_sumamt,pric_uplmt_amt,chrgitm_lv,selfpay_prop,fulamt_ownpay_amt,overlmt_amt,preselfpay_amt,inscp_scp_amt\n";
pub const SUMMARY_HEADER: &str = "fixmedins_code,insutype,clr_type,stmt_begndate,stmt_enddate,refd_setl_flag,fixmedins_setl_cnt,medfee_sumamt,fund_pay_sumamt,acct_pay\n";
pub const FILINGS_HEADER: &str = "trt_dcla_detl_sn,psn_no,certno,psn_name,insutype,insu_admdvs,rloc_rea,rloc_admdvs,begndate,enddate,crte_time,vali_flag,updt_time\n";
pub const ENROLLMENT_HEADER: &str =
    "psn_no,insutype,insuplc_admdvs,psn_insu_stas,begndate,enddate,wait_end\n";
pub const YTD_HEADER: &str = "psn_no,insutype,med_grp,year,dedc_used,hifp_paid\n";
pub const FINDINGS_HEADER: &str = "rule,level,fixmedins_code,setl_id,feedetl_sn,trt_dcla_detl_sn,psn_no,insuplc_admdvs,fix_blng_admdvs,amount\n";
pub const SETTLEMENTS_HEADER: &str = "fixmedins_code,setl_id,line,status,trt_dcla_detl_sn,expected_hifp,disputed_amount,held_amount,cleared_amount\n";

pub(super) fn write_setlinfo(out: &mut String, h: &Hospital, s: &Setl) {
    let p = &s.person;
    let _ = write!(
        out,
        "{},M{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
        s.id,
        s.id,
        p.psn_no,
        p.certno,
        p.name,
        p.insutype,
        p.insured,
        h.code,
        s.mdtrtarea,
        s.med_type,
        s.clr_type(),
        s.emg as u8,
        s.begndate,
        s.enddate,
        s.setl_time.format("%Y-%m-%d %H:%M:%S"),
        s.dise,
        s.opsp.unwrap_or("")
    );
    for v in s.m.columns() {
        out.push(',');
        out.push_str(&money(v));
    }
    let _ = writeln!(
        out,
        ",{},{}",
        s.reversal as u8,
        s.init.as_deref().unwrap_or("")
    );
}

pub(super) fn write_line(out: &mut String, items: &[Item], s: &Setl, l: &Line) {
    let it = &items[l.item];
    let _ = writeln!(
        out,
        "{},{},{},{},H{},{},{},{},{},{},{},{},{},0.00,{},{}",
        s.id,
        l.sn,
        l.time.format("%Y-%m-%d %H:%M:%S"),
        it.code,
        l.item,
        it.chrgitm_type,
        fixed(l.cnt, 4),
        fixed(l.pric, 6),
        money(l.sum),
        it.ceiling.map(money).unwrap_or_default(),
        l.billed_class,
        ratio(l.billed_selfpay),
        money(l.fulamt),
        money(l.pre),
        money(l.inscp)
    );
}
