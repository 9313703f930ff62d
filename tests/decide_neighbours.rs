//! Near neighbours (抢劫 / 抢夺 / 盗窃, the fraud family, 故意伤害 / 故意杀人 / 过失致人死亡, the bribery and
//! embezzlement families, 窝藏包庇 / 掩饰隐瞒) must be told apart on the shipped knowledge base from what the
//! facts describe — the act, the means, the subject — on the rules path alone (no similar cases).

use lexpro::decide::decide;
use lexpro::extract::Extractor;
use lexpro::retrieve::Retriever;

mod common;

const CASES: &[(&str, &str)] = &[
    ("抢劫罪", "被告人持刀威胁被害人，当场劫取其手机一部及现金500元。"),
    ("抢夺罪", "被告人驾驶摩托车尾随被害人，趁其不备抢走其挎包一个，内有现金3000元。"),
    ("盗窃罪", "被告人趁被害人熟睡之机，窃取其放在床头的手机一部，价值2000元。"),
    ("诈骗罪", "被告人虚构其能帮助他人安排工作的事实，骗取被害人现金5万元。"),
    ("合同诈骗罪", "被告人以某公司名义与被害单位签订货物买卖合同，收取货物后逃匿，骗取货物价值30万元。"),
    ("信用卡诈骗罪", "被告人冒用捡拾的他人信用卡在商场刷卡消费共计2万元。"),
    ("集资诈骗罪", "被告人以非法占有为目的，以高额回报为诱饵，使用诈骗方法向社会公众非法集资2000万元，集资款被其挥霍。"),
    ("故意伤害罪", "被告人因琐事与被害人发生争执，用拳头击打被害人面部，经鉴定被害人损伤程度为轻伤二级。"),
    ("故意杀人罪", "被告人因感情纠纷欲杀死被害人，持刀朝被害人胸部连刺数刀，致被害人当场死亡。"),
    ("过失致人死亡罪", "被告人在与被害人推搡过程中，不慎将被害人推倒，被害人头部撞击地面，经抢救无效死亡。"),
    ("受贿罪", "被告人身为国家工作人员，利用担任某局局长职务上的便利，为他人谋取利益，非法收受他人财物共计50万元。"),
    ("非国家工作人员受贿罪", "被告人身为某有限公司采购经理，利用职务上的便利，非法收受供应商财物共计10万元，为其谋取利益。"),
    ("贪污罪", "被告人身为国家工作人员，利用职务上的便利，侵吞公款20万元。"),
    ("职务侵占罪", "被告人利用担任某公司出纳的职务便利，将本单位资金8万元非法占为己有。"),
    ("挪用公款罪", "被告人身为国家工作人员，利用职务上的便利，挪用公款10万元用于个人赌博，超过三个月未还。"),
    ("挪用资金罪", "被告人利用担任某公司会计的职务便利，挪用本单位资金15万元归个人使用，超过三个月未还。"),
    ("窝藏、包庇罪", "被告人明知李某是犯罪的人，仍为其提供住处和钱财，帮助其逃匿。"),
    ("掩饰、隐瞒犯罪所得、犯罪所得收益罪", "被告人明知是他人盗窃所得的电动车，仍予以收购并转卖。"),
];

#[test]
fn near_neighbours_are_told_apart() {
    let kb = common::shipped_kb();
    let ex = Extractor::new(&kb).expect("extractor");
    let r = Retriever::new(&kb).expect("retriever");
    let mut wrong = Vec::new();
    for (want, fact) in CASES {
        assert!(kb.charges.iter().any(|c| c.name == *want), "{want} is missing from the knowledge base");
        let e = ex.extract(fact, None);
        let d = decide(&kb, fact, &e, &r.retrieve(fact, &e, 10));
        let got: Vec<&str> = d.charges.iter().map(|c| c.name.as_str()).collect();
        if got != [*want] {
            wrong.push(format!("{want}: got {got:?} for 「{fact}」"));
        }
    }
    eprintln!("{} of {} near-neighbour cases wrong", wrong.len(), CASES.len());
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
