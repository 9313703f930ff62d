//! The output contract, fixed: field names and types of `Judgment`, and `lexpro batch` behaviour
//! (input order, error records for bad lines, stdin/stdout).

use std::io::Write;
use std::process::{Command, Stdio};

fn lexpro() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lexpro"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

const CONTRACT_KEYS: [&str; 11] =
    ["id", "charges", "articles", "general_articles", "term", "fine_yuan", "elements", "evidence", "trace", "reasoning", "warnings"];
const ELEMENT_KEYS: [&str; 16] = [
    "amount_yuan", "drugs", "bac_mg_per_100ml", "injury_max", "deaths", "minor_defendant", "minor_victim", "surrender", "confession",
    "guilty_plea", "recidivist", "restitution", "forgiveness", "attempted", "accessory", "meritorious",
];

#[test]
fn judgment_serialises_with_the_contract_keys() {
    let j = lexpro::Judgment::default();
    let v = serde_json::to_value(&j).expect("serialise");
    for k in CONTRACT_KEYS {
        assert!(v.get(k).is_some(), "missing key {k}");
    }
    for k in ELEMENT_KEYS {
        assert!(v["elements"].get(k).is_some(), "missing element key {k}");
    }
    assert_eq!(v["elements"]["injury_max"], "none");
    assert_eq!(v["elements"]["deaths"], 0);
    assert!(v["term"].is_null());
    let t = lexpro::contract::Term { kind: lexpro::contract::TermKind::CriminalDetention, months: Some(3.0), range_months: Some([1.0, 6.0]), probation_months: None };
    let tv = serde_json::to_value(&t).expect("term");
    assert_eq!(tv["kind"], "criminal_detention");
    assert_eq!(tv["range_months"], serde_json::json!([1.0, 6.0]));
}

#[test]
fn batch_keeps_order_and_turns_bad_lines_into_error_records() {
    let input = concat!(
        "{\"id\": \"a\", \"fact\": \"被告人张某入户盗窃现金人民币3000元，后被抓获。\"}\n",
        "this is not json\n",
        "{\"id\": \"c\", \"fact\": \"\"}\n",
        "\n",
        "{\"id\": \"d\", \"fact\": \"被告人李某醉酒驾驶机动车，经鉴定血液酒精含量为120mg/100ml。\", \"province\": \"火星\"}\n",
        "{\"id\": 7, \"fact\": \"被告人王某持刀抢劫被害人手机一部。\"}\n",
    );
    let mut child = lexpro()
        .args(["batch", "--quiet"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn lexpro");
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success(), "batch failed: {}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).expect("each output line is JSON")).collect();
    assert_eq!(lines.len(), 5, "one output per non-empty input line");
    assert_eq!(lines[0]["id"], "a");
    for k in CONTRACT_KEYS {
        assert!(lines[0].get(k).is_some(), "missing key {k}");
    }
    assert_eq!(lines[1]["line"], 2);
    assert!(lines[1]["error"].as_str().unwrap_or("").contains("invalid JSON"));
    assert_eq!(lines[2]["id"], "c");
    assert!(lines[2]["error"].as_str().unwrap_or("").contains("empty fact"));
    assert_eq!(lines[3]["id"], "d");
    assert!(lines[3]["error"].as_str().unwrap_or("").contains("province"));
    assert_eq!(lines[4]["id"], "7", "non-string ids are kept as their JSON text");
}

#[test]
fn batch_reads_and_writes_files() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("out.jsonl");
    let status = lexpro()
        .args(["batch", "--quiet", "--input", "examples/cases.jsonl", "--output"])
        .arg(&out)
        .status()
        .expect("run");
    assert!(status.success());
    let text = std::fs::read_to_string(&out).expect("output");
    let ids: Vec<String> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json"))
        .map(|v| v["id"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(ids, ["ex-1", "ex-2", "ex-3", "ex-4", "ex-5", "ex-bad"]);
}

#[test]
fn non_utf8_and_missing_inputs_are_clear_errors() {
    let dir = tempfile::tempdir().expect("tmp");
    let bad = dir.path().join("bad.txt");
    std::fs::write(&bad, [0xffu8, 0xfe, 0x00, 0x41]).expect("write");
    let out = lexpro().arg("analyze").arg(&bad).output().expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("UTF-8"));
    let out = lexpro().args(["analyze", "/nonexistent/fact.txt"]).output().expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("reading /nonexistent/fact.txt"));
    // non-UTF-8 batch lines become error records (lossy decoding, then a clear error), the batch goes on
    let input = dir.path().join("in.jsonl");
    let mut bytes = b"{\"id\":\"x\",\"fact\":\"\xff\xfe\"}\n".to_vec();
    bytes.extend_from_slice("{\"id\":\"y\",\"fact\":\"被告人盗窃电动车一辆。\"}\n".as_bytes());
    std::fs::write(&input, bytes).expect("write");
    let out = lexpro().args(["batch", "--quiet", "--input"]).arg(&input).output().expect("run");
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);
}

#[test]
fn kb_check_reports_errors_with_location_and_fails() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("a.law"), "charge \"x罪\" {\n  article 1\n  band 1 { when nope penalty detention source \"s\" }\n}\n").expect("write");
    let out = lexpro().args(["kb", "check"]).arg(dir.path()).output().expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("a.law:2:11") && err.contains("E0104"), "{err}");
    assert!(err.contains("a.law:3:17") && err.contains("E0101"), "{err}");
}

/// The same case gives the same judgment, byte for byte, however often it is analysed: no score, reason
/// or explanation may depend on a hash map's (randomly seeded) iteration order.
#[test]
fn the_same_case_gives_the_same_judgment_every_time() {
    let engine = lexpro::Engine::from_dir(&lexpro::engine::default_knowledge_dir()).expect("shipped knowledge base");
    let facts = [
        "经审理查明，2016年5月3日，被告人张某在某小区入户盗窃笔记本电脑一台，价值人民币3500元。案发后，被告人张某主动投案，如实供述了自己的罪行，并退赔了被害人的全部损失，取得被害人谅解。",
        "公诉机关指控，2015年3月，被告人李某以虚构投资项目、承诺高额回报为由，先后骗取被害人王某、赵某钱款共计人民币12万元，用于个人挥霍。案发后，李某的家属代为退赔了部分损失。公诉机关认为，被告人李某的行为已构成诈骗罪。",
        "被告人向吸毒人员贩卖甲基苯丙胺2次，共计0.6克，后在其租住处容留他人吸食毒品，被公安机关当场抓获，从其身上查获甲基苯丙胺0.3克。",
    ];
    for fact in facts {
        let case = lexpro::CaseInput { id: "r".into(), fact: fact.into(), ..Default::default() };
        let first = serde_json::to_string(&engine.analyze(&case).expect("analysis")).expect("serialise");
        for _ in 0..4 {
            let again = serde_json::to_string(&engine.analyze(&case).expect("analysis")).expect("serialise");
            assert_eq!(first, again, "a second analysis of the same fact differs");
        }
    }
}
