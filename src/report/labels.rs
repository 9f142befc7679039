//! Chinese labels of the output columns, for the workbook's headers and the report.

/// The Chinese label of a column (the NHSA code itself when none is known).
pub fn zh(column: &str) -> &str {
    match column {
        "rule" => "规则",
        "level" => "级别",
        "fixmedins_code" => "定点医药机构编号",
        "fixmedins_name" => "定点医药机构名称",
        "setl_id" => "结算ID",
        "feedetl_sn" => "费用明细流水号",
        "trt_dcla_detl_sn" => "备案流水号",
        "psn_no" => "人员编号",
        "insuplc_admdvs" => "参保地",
        "fix_blng_admdvs" => "就医地",
        "amount" => "问题金额",
        "detail" => "说明",
        "line" => "行号",
        "refd_setl_flag" => "冲销标志",
        "status" => "清算状态",
        "expected_hifp" => "应付统筹基金",
        "disputed_amount" => "扣减金额",
        "held_amount" => "暂缓金额",
        "cleared_amount" => "清算金额",
        "clr_type" => "清算类别",
        "insured_prov" => "参保省",
        "treatment_prov" => "就医省",
        "scope" => "范围",
        "setl_cnt" => "结算笔数",
        "psn_cnt" => "人数",
        "reversed_cnt" => "冲销笔数",
        "medfee_sumamt" => "医疗费总额",
        "hifp_pay" => "统筹基金支付",
        "hifmi_pay" => "大病保险支付",
        "hifob_pay" => "大额补助支付",
        "maf_pay" => "医疗救助支付",
        "oth_fund_pay" => "其他基金支付",
        "fund_pay_sumamt" => "基金支付总额",
        "acct_pay" => "个人账户支付",
        "psn_cash_pay" => "个人现金支付",
        "prov" => "省份",
        "receivable" => "应收",
        "payable" => "应付",
        "net" => "净额",
        "cnt" => "笔数",
        "file" => "文件",
        "column" => "列",
        "reason" => "原因",
        other => other,
    }
}

/// The Chinese name of a table.
pub fn table_zh(table: &str) -> &str {
    match table {
        "findings" => "问题明细",
        "settlements" => "结算清算状态",
        "clearing_by_area" => "按统筹区清算",
        "clearing_by_province" => "按省清算",
        "province_net" => "省际轧差",
        "problems_by_hospital" => "医院问题金额",
        "rejects" => "拒收记录",
        other => other,
    }
}
