//! Element extraction with the shipped core vocabulary (`knowledge/elements/core.law`), one test per pattern
//! family, on sentences written the way judgments write them — including negations, rejected defence claims and
//! co-defendants. Every evidence span must quote the fact exactly at its character offsets.

use lexpro::extract::{Extraction, Extractor};
use lexpro::kb::model::{Date, Value};
use proptest::prelude::*;
use std::sync::OnceLock;

fn extractor() -> &'static Extractor {
    static EX: OnceLock<Extractor> = OnceLock::new();
    EX.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/knowledge/elements/core.law");
        let text = std::fs::read_to_string(path).expect("core.law ships with the crate");
        let checked = lexpro::kb::check_sources(&[("elements/core.law".to_string(), text)]);
        assert_eq!(checked.error_count(), 0, "{}", checked.render());
        Extractor::new(&checked.kb).expect("cue patterns compile")
    })
}

fn ex(fact: &str) -> Extraction {
    let e = extractor().extract(fact, None);
    let chars: Vec<char> = fact.chars().collect();
    for (k, spans) in &e.evidence {
        for s in spans {
            let quoted: String = chars[s.start..s.end].iter().collect();
            assert_eq!(quoted, s.text, "evidence of {k} must quote the fact at its offsets");
        }
    }
    e
}

fn flag(fact: &str, name: &str) -> bool {
    ex(fact).facts.flag(name)
}

#[test]
fn surrender_and_its_negations() {
    assert!(flag("2013年1月21日被告人陈某某主动到建宁县公安局投案，如实供述自己的犯罪事实。", "surrender"));
    assert!(flag("被告人高某明知他人报案而在现场等候处理，到案后如实供述自己的犯罪事实。", "surrender"));
    assert!(flag("被告人周某经电话通知，接受公安人员询问时主动交代了上述犯罪事实。", "surrender"));
    assert!(flag("公诉机关认为，被告人矫某具有自首情节。", "surrender"));
    assert!(!flag("被告人系被公安机关抓获归案，不构成自首。", "surrender"));
    assert!(!flag("被告人虽到派出所投案，但未如实供述主要犯罪事实，不能认定为自首。", "surrender"));
    assert!(!flag("辩护人提出被告人有自首情节。经查，被告人系被抓获归案，该辩护意见不予采纳。", "surrender"));
    assert!(!flag("同案人李某主动到公安机关投案，被告人张某被抓获。", "surrender"));
    assert!(!flag("被告人张某被被害人扭送至公安机关。", "surrender"));
}

#[test]
fn confession_is_dropped_under_surrender() {
    assert!(flag("被告人阎某甲到案后能如实供述自己的犯罪事实，可以从轻处罚。", "confession"));
    let both = ex("被告人主动投案，如实供述了自己的罪行。");
    assert!(both.facts.flag("surrender"));
    assert!(!both.facts.flag("confession"));
    assert!(!both.elements.confession);
    assert!(!flag("被告人到案后拒不如实供述。", "confession"));
}

#[test]
fn plea_recidivism() {
    assert!(flag("被告人牛某某对公诉机关指控的上述事实表示认罪。", "guilty_plea"));
    assert!(flag("被告人在庭审中自愿认罪。", "guilty_plea"));
    assert!(!flag("被告人当庭不认罪。", "guilty_plea"));
    assert!(!flag("辩护人认为，被告人到案后认罪态度较好。", "guilty_plea"));
    assert!(flag("被告人刑罚执行完毕后五年以内再犯应当判处有期徒刑以上刑罚之罪，系累犯。", "recidivist"));
    assert!(!flag("被告人虽有前科，但不构成累犯。", "recidivist"));
    let d = ex("被告人张某曾因贩卖毒品罪被判过刑，又犯贩卖毒品罪。");
    assert!(d.facts.flag("drug_recidivist"));
    assert!(d.elements.recidivist, "the contract's recidivist includes 毒品再犯");
}

#[test]
fn restitution_and_civil_claims() {
    assert!(flag("案发后，被告人的父亲代为退出全部非法所得。", "restitution"));
    assert!(flag("被告人已赔偿被害人韩某某医药费、误工费等各项经济损失共计人民币八千元。", "restitution"));
    assert!(flag("案发后，公安机关追回赃车，现已发还被害人。", "restitution"));
    assert!(!flag("附带民事诉讼原告人崔某要求被告人赔偿医疗费共计人民币201250元。", "restitution"));
    assert!(!flag("被告人至今未赔偿被害人的经济损失。", "restitution"));
    assert!(!flag("有扣押发还物品清单等证据证实。", "restitution"));
    assert!(!flag("公诉机关出示了扣押（发还）物品清单及照片。", "restitution"));
    assert!(!flag("被告人当庭自愿认罪，但未给予被害人杨某经济赔偿。", "restitution"));
    // Typed with Latin full stops: the evidence list closing the text must not swallow the settlement before it.
    assert!(flag("经鉴定电梯的毁损价值为3520元.双方就赔偿达成了协议.上述事实，有被告人张某的供述与辩解等证据.", "restitution"));
}

#[test]
fn forgiveness_and_refusal() {
    assert!(flag("被告人取得了被害人亲属的谅解。", "forgiveness"));
    assert!(flag("被害人徐某请求司法机关不追究陈某某的法律责任。", "forgiveness"));
    assert!(!flag("被告人未能取得被害人的谅解。", "forgiveness"));
    assert!(!flag("被害人表示不追究被告人的经济赔偿责任。", "forgiveness"));
}

#[test]
fn stages_and_roles() {
    assert!(flag("被告人郭某在实施犯罪的过程中，由于意志以外的原因未能得逞，系未遂。", "attempted"));
    assert!(!flag("被告人自动放弃犯罪，属于犯罪中止，不属于犯罪未遂。", "attempted"));
    assert!(!flag("被告人持刀刺伤被害人后自杀未遂，被送医救治。", "attempted"));
    assert!(flag("被告人自动放弃犯罪，属于犯罪中止。", "discontinuance"));
    assert!(flag("被告人在共同犯罪中起次要作用，系从犯。", "accessory"));
    assert!(!flag("被告人在共同犯罪中起主要作用，不是从犯。", "accessory"));
    assert!(flag("被告人到案后检举揭发他人犯罪行为，经查证属实，构成立功。", "meritorious"));
    assert!(!flag("被告人提供的线索未查证属实，不构成立功。", "meritorious"));
    // A protest that the first-instance finding was wrong (抗诉意见) is not the finding.
    assert!(!flag("二、原判认定吴某为从犯不当。", "accessory"));
    assert!(!flag("检察机关提出原审判决认定原审被告人徐某立功错误的抗诉意见。", "meritorious"));
}

#[test]
fn minors_and_ages() {
    let e = extractor()
        .extract("被告人刘某某指使李某某对被害人王某某（1999年7月2日出生）进行了殴打。", Date::new(2014, 3, 5));
    assert_eq!(e.facts.number("victim_age"), Some(14.0));
    assert!(e.elements.minor_victim);
    assert_eq!(e.elements.minor_defendant, None, "the defendant's age is not stated");
    let d = ex("被告人张某（男，2000年5月1日出生）于2016年3月9日盗窃手机一部。");
    assert_eq!(d.facts.number("defendant_age"), Some(15.0));
    assert_eq!(d.elements.minor_defendant, Some(true));
    let adult = ex("被告人李某（男，1980年5月1日出生）于2016年3月9日盗窃手机一部。");
    assert_eq!(adult.elements.minor_defendant, Some(false));
    assert!(flag("被告人强行与不满十四周岁的幼女发生性关系。", "minor_victim"));
    assert!(!flag("被告人金某伙同王某甲、陈某（均未满14周岁，另案处理）盗窃摩托车。", "minor_victim"));
}

#[test]
fn amounts_as_courts_count_them() {
    let a = |t: &str| ex(t).elements.amount_yuan;
    // Money drawn from a stolen or defrauded card (取走, 盗刷) is the amount taken.
    assert_eq!(a("被告人刘某某到信用社从该卡中取走人民币5000元。"), Some(5000.0));
    assert_eq!(a("窃得室友朱某某银行卡1张，后利用事先获知的密码，持该银行卡取款人民币2100元。"), Some(2100.0));
    assert_eq!(a("郭某在中国工商银行ATM机上使用该信用卡提取现金人民币9000元。"), Some(9000.0));
    assert_eq!(a("后在该行的自动取款机上将蔡某银行卡内的存款人民币5000元取走。"), Some(5000.0));
    assert_eq!(a("被告人以借为名，从邵某处骗得人民币三千五百元。"), Some(3500.0));
    assert_eq!(a("共骗取四被害人现金33万余元。"), Some(330000.0));
    assert_eq!(a("经鉴定，被盗物品价值人民币7,600.00元。"), Some(7600.0));
    assert_eq!(a("经鉴定，被盗手机价值人民币１２３４元。"), Some(1234.0));
    assert_eq!(a("被告人骗取李某现金共计18.5万某人民币。"), Some(185000.0));
    // Itemised counts and their total are counted once.
    assert_eq!(a("被告人先后三次骗取被害人王某人民币2000元、3000元及5000元，共计骗取人民币10000元。"), Some(10000.0));
    // Separate counts are summed.
    assert_eq!(a("1.被告人骗取被害人陈某人民币2000元。2.被告人骗取被害人蒋某人民币3000元。"), Some(5000.0));
    // A value restated where the prosecution sums up counts once.
    assert_eq!(
        a("经价格鉴定，被砸坏的设施价值人民币11281元。公诉机关认为，被告人任意毁损他人财物价值人民币11281元，情节严重。"),
        Some(11281.0)
    );
    // 虚开发票: the tax, not the total with tax.
    assert_eq!(a("虚开增值税专用发票6份，价税合计人民币129，534元，税额共计人民币18，821.18元。"), Some(18821.18));
    // Compensation, fines, civil claims and drug money are not the crime amount.
    assert_eq!(a("被告人赔偿被害人经济损失人民币4万元，取得谅解。"), None);
    assert_eq!(a("被告人以人民币300元的价格将0.18克海洛因贩卖给朱某。"), None);
    assert_eq!(a("附带民事诉讼原告人要求赔偿死亡赔偿金404160.80元、丧葬费19203.50元，总计423364.3元。"), None);
    assert_eq!(a("被告人盗窃摩托车一辆，后销赃得款250元。"), None);
    // Money obtained against collateral or as an insurance benefit is the amount; the collateral's own value is not.
    assert_eq!(a("后将此车作为抵押物向刘某骗取人民币45000元。"), Some(45000.0));
    assert_eq!(a("此间骗取养老保险金共计人民币38634.36元。"), Some(38634.36));
    assert_eq!(a("被告人以价值人民币4.5万某的一辆汽车作抵押，骗取孟某某人民币16.56万某。"), Some(165600.0));
    assert_eq!(a("以收取担保费为由，骗取被害人张某人民币1500000元。"), Some(1500000.0));
}

#[test]
fn amount_evidence_points_at_the_money() {
    let fact = "综上，被告人张某作案4起，骗取财物共计人民币164351元。";
    let e = ex(fact);
    assert_eq!(e.elements.amount_yuan, Some(164351.0));
    let sp = &e.evidence["amount_yuan"][0];
    assert_eq!(sp.text, "人民币164351元");
    assert_eq!(e.facts.number("times"), Some(4.0));
}

#[test]
fn blood_alcohol() {
    let b = |t: &str| ex(t).elements.bac_mg_per_100ml;
    assert_eq!(b("经鉴定，被告人殷某血液中的酒精含量为226.1mg/100ml。"), Some(226.1));
    assert_eq!(b("经检验，刘某某的静脉血中检出乙醇成分，含量为99mg／100ml，系醉酒状态。"), Some(99.0));
    assert_eq!(b("张某醉酒（203.8／100ml）后驾驶轿车。"), Some(203.8));
    assert_eq!(b("案发时吴某血液酒精浓度为214.797毫克／100毫升。"), Some(214.797));
    assert_eq!(b("被告人酒后驾驶机动车，被民警查获。"), None);
}

#[test]
fn injuries_and_deaths() {
    let e = ex("经鉴定，被害人高某1、高某2的损伤程度评定为轻伤一级，高某3的损伤程度评定为轻伤二级。");
    assert_eq!(e.elements.injury_max, "轻伤一级");
    assert_eq!(e.facts.values.get("injury_max"), Some(&Value::Level("轻伤一级".into())));
    assert_eq!(ex("经鉴定，被害人的损伤未达到轻伤。").elements.injury_max, "none");
    let d =
        ex("致车辆损坏，庞某某当场死亡，出租车内乘人张某某送医院抢救无效死亡；经法医鉴定，靳某、马某的伤情为重伤。");
    assert_eq!(d.elements.deaths, 2);
    assert_eq!(d.elements.injury_max, "死亡");
    assert_eq!(d.facts.number("serious_injuries"), Some(2.0));
    let q = ex(
        "被告人用水果刀刺伤他人致其死亡。被害人唐某1被群众发现死于竹林中。依照刑法“致人死亡的，处七年以上有期徒刑”。",
    );
    assert_eq!(q.elements.deaths, 1);
    assert_eq!(ex("出具了死亡医学证明书、死亡赔偿金收条。").elements.deaths, 0);
    assert_eq!(ex("发生交通事故，致二人死亡、一人轻伤。").elements.deaths, 2);
    assert_eq!(ex("被告人胡某采用扼、勒颈的手段将吴某杀死。").elements.deaths, 1);
    assert_eq!(ex("被告人驾驶铲车将横穿公路的行人沈氏当场碾压致死。").elements.deaths, 1);
    assert_eq!(ex("被告人产生了将其杀死的念头，持刀追砍，被害人逃脱。").elements.deaths, 0);
    assert_eq!(ex("被告人欲将被害人掐死，因被害人反抗未得逞。").elements.deaths, 0);
    assert_eq!(ex("被告人萌生将马某杀死后自杀的念头，持刀刺伤马某。").elements.deaths, 0);
}

#[test]
fn drugs_with_official_names() {
    let e = ex("被告人在其租住处将一小包重约0.1克的毒品冰毒贩卖给林某。民警现场搜获16小包共重3.8克的毒品冰毒。");
    assert_eq!(e.elements.drugs.len(), 1);
    assert_eq!(e.elements.drugs[0].kind, "甲基苯丙胺");
    assert!((e.elements.drugs[0].grams.unwrap_or(0.0) - 3.9).abs() < 1e-9);
    assert_eq!(e.facts.drugs, vec![("甲基苯丙胺".to_string(), 3.9)]);
    let h = ex("被告人贩卖毒品海洛因供他人吸食。");
    assert_eq!(h.elements.drugs[0].grams, None);
    assert!(h.warnings.iter().any(|w| w.contains("海洛因")));
}

#[test]
fn times_and_province() {
    let e = ex("成都市金牛区人民检察院指控，被告人多次盗窃他人财物。");
    assert_eq!(e.facts.number("times"), Some(3.0), "多次 implies three times or more");
    assert_eq!(e.facts.province.as_deref(), Some("四川"));
    let t = ex("被告人白某某共盗窃六次，所盗款物折合人民币2325元。");
    assert_eq!(t.facts.number("times"), Some(6.0));
    assert_eq!(t.elements.amount_yuan, Some(2325.0));
    assert_eq!(ex("阎某甲向杨某某还了900元，杨某某多次催促还款。").facts.number("times"), None);
}

#[test]
fn empty_and_odd_inputs() {
    let e = ex("");
    assert!(e.facts.values.is_empty());
    assert_eq!(e.elements.injury_max, "none");
    let _ = ex("，，，。。。；；；（）()元元元万万");
    let _ = ex("\u{0}\u{FFFF}𝄞 元 克 mg/100ml 死亡");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn no_panic_on_any_text(s in "\\PC{0,200}") {
        let _ = ex(&s);
    }

    #[test]
    fn no_panic_on_judgment_like_text(s in "[被告人张某于2013年3月骗取盗窃人民币元万余共计合计价值克净重海洛因冰毒轻伤重伤死亡自首未谅解，。；（）0-9.]{0,120}") {
        let _ = ex(&s);
    }
}
