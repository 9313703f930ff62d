//! Province of a case: normalising names (北京市 → 北京, 内蒙古自治区 → 内蒙古) and detecting the
//! province from the court / procuratorate or the place names of a fact description.
//!
//! Province values of thresholds are keyed by short name, so every province string that reaches the
//! knowledge base goes through [`normalize`].

/// The 31 provincial-level divisions of the mainland (short name, full name), plus the SARs and Taiwan
/// so that their names are recognised rather than mistaken.
pub const PROVINCES: &[(&str, &str)] = &[
    ("北京", "北京市"), ("天津", "天津市"), ("河北", "河北省"), ("山西", "山西省"), ("内蒙古", "内蒙古自治区"),
    ("辽宁", "辽宁省"), ("吉林", "吉林省"), ("黑龙江", "黑龙江省"), ("上海", "上海市"), ("江苏", "江苏省"),
    ("浙江", "浙江省"), ("安徽", "安徽省"), ("福建", "福建省"), ("江西", "江西省"), ("山东", "山东省"),
    ("河南", "河南省"), ("湖北", "湖北省"), ("湖南", "湖南省"), ("广东", "广东省"), ("广西", "广西壮族自治区"),
    ("海南", "海南省"), ("重庆", "重庆市"), ("四川", "四川省"), ("贵州", "贵州省"), ("云南", "云南省"),
    ("西藏", "西藏自治区"), ("陕西", "陕西省"), ("甘肃", "甘肃省"), ("青海", "青海省"), ("宁夏", "宁夏回族自治区"),
    ("新疆", "新疆维吾尔自治区"), ("香港", "香港特别行政区"), ("澳门", "澳门特别行政区"), ("台湾", "台湾省"),
];

/// Prefecture-level cities, prefectures, autonomous prefectures and leagues (without the 市 / 地区 /
/// 州 / 盟 suffix where the name is unambiguous), by province short name.
const CITIES: &[(&str, &[&str])] = &[
    ("河北", &["石家庄", "唐山", "秦皇岛", "邯郸", "邢台", "保定", "张家口", "承德", "沧州", "廊坊", "衡水"]),
    ("山西", &["太原", "大同", "阳泉", "长治", "晋城", "朔州", "晋中", "运城", "忻州", "临汾", "吕梁"]),
    ("内蒙古", &["呼和浩特", "包头", "乌海", "赤峰", "通辽", "鄂尔多斯", "呼伦贝尔", "巴彦淖尔", "乌兰察布", "兴安盟", "锡林郭勒", "阿拉善"]),
    ("辽宁", &["沈阳", "大连", "鞍山", "抚顺", "本溪", "丹东", "锦州", "营口", "阜新", "辽阳", "盘锦", "铁岭", "朝阳市", "葫芦岛"]),
    ("吉林", &["长春", "吉林市", "四平", "辽源", "通化", "白山", "松原", "白城", "延边"]),
    ("黑龙江", &["哈尔滨", "齐齐哈尔", "鸡西", "鹤岗", "双鸭山", "大庆", "伊春", "佳木斯", "七台河", "牡丹江", "黑河", "绥化", "大兴安岭"]),
    ("江苏", &["南京", "无锡", "徐州", "常州", "苏州", "南通", "连云港", "淮安", "盐城", "扬州", "镇江", "泰州", "宿迁"]),
    ("浙江", &["杭州", "宁波", "温州", "嘉兴", "湖州", "绍兴", "金华", "衢州", "舟山", "台州", "丽水"]),
    ("安徽", &["合肥", "芜湖", "蚌埠", "淮南", "马鞍山", "淮北", "铜陵", "安庆", "黄山", "滁州", "阜阳", "宿州", "六安", "亳州", "池州", "宣城", "巢湖"]),
    ("福建", &["福州", "厦门", "莆田", "三明", "泉州", "漳州", "南平", "龙岩", "宁德"]),
    ("江西", &["南昌", "景德镇", "萍乡", "九江", "新余", "鹰潭", "赣州", "吉安", "宜春", "抚州", "上饶"]),
    ("山东", &["济南", "青岛", "淄博", "枣庄", "东营", "烟台", "潍坊", "济宁", "泰安", "威海", "日照", "莱芜", "临沂", "德州", "聊城", "滨州", "菏泽"]),
    ("河南", &["郑州", "开封", "洛阳", "平顶山", "安阳", "鹤壁", "新乡", "焦作", "濮阳", "许昌", "漯河", "三门峡", "南阳", "商丘", "信阳", "周口", "驻马店", "济源"]),
    ("湖北", &["武汉", "黄石", "十堰", "宜昌", "襄阳", "襄樊", "鄂州", "荆门", "孝感", "荆州", "黄冈", "咸宁", "随州", "恩施", "仙桃", "潜江", "天门", "神农架"]),
    ("湖南", &["长沙", "株洲", "湘潭", "衡阳", "邵阳", "岳阳", "常德", "张家界", "益阳", "郴州", "永州", "怀化", "娄底", "湘西"]),
    ("广东", &["广州", "韶关", "深圳", "珠海", "汕头", "佛山", "江门", "湛江", "茂名", "肇庆", "惠州", "梅州", "汕尾", "河源", "阳江", "清远", "东莞", "中山", "潮州", "揭阳", "云浮"]),
    ("广西", &["南宁", "柳州", "桂林", "梧州", "北海", "防城港", "钦州", "贵港", "玉林", "百色", "贺州", "河池", "来宾", "崇左"]),
    ("海南", &["海口", "三亚", "三沙", "儋州", "琼海", "文昌", "万宁", "五指山", "东方市"]),
    ("四川", &["成都", "自贡", "攀枝花", "泸州", "德阳", "绵阳", "广元", "遂宁", "内江", "乐山", "南充", "眉山", "宜宾", "广安", "达州", "雅安", "巴中", "资阳", "阿坝", "甘孜", "凉山"]),
    ("贵州", &["贵阳", "六盘水", "遵义", "安顺", "毕节", "铜仁", "黔西南", "黔东南", "黔南"]),
    ("云南", &["昆明", "曲靖", "玉溪", "保山", "昭通", "丽江", "普洱", "临沧", "楚雄", "红河", "文山", "西双版纳", "大理", "德宏", "怒江", "迪庆"]),
    ("西藏", &["拉萨", "日喀则", "昌都", "林芝", "山南", "那曲", "阿里"]),
    ("陕西", &["西安", "铜川", "宝鸡", "咸阳", "渭南", "延安", "汉中", "榆林", "安康", "商洛"]),
    ("甘肃", &["兰州", "嘉峪关", "金昌", "白银", "天水", "武威", "张掖", "平凉", "酒泉", "庆阳", "定西", "陇南", "临夏", "甘南"]),
    ("青海", &["西宁", "海东", "海北", "黄南", "海南州", "海南藏族自治州", "果洛", "玉树", "海西"]),
    ("宁夏", &["银川", "石嘴山", "吴忠", "固原", "中卫"]),
    ("新疆", &["乌鲁木齐", "克拉玛依", "吐鲁番", "哈密", "昌吉", "博尔塔拉", "巴音郭楞", "阿克苏", "克孜勒苏", "喀什", "和田", "伊犁", "塔城", "阿勒泰", "石河子", "五家渠"]),
];

/// The short name of a province given in any usual form (北京, 北京市, 内蒙古自治区, 广西壮族自治区 …);
/// None when it is not a province name.
pub fn normalize(name: &str) -> Option<&'static str> {
    let n = name.trim();
    if n.is_empty() {
        return None;
    }
    PROVINCES.iter().find(|(short, full)| n == *short || n == *full).map(|(s, _)| *s).or_else(|| {
        // Tolerate other suffixes: 省 / 市 / 自治区 variants.
        PROVINCES.iter().find(|(short, _)| n.starts_with(short) && n.chars().count() <= short.chars().count() + 6).map(|(s, _)| *s)
    })
}

/// The province of a place name that starts a string: a province name or a prefecture-level city.
fn province_at(s: &str) -> Option<&'static str> {
    for (short, full) in PROVINCES {
        if s.starts_with(full) || s.starts_with(short) {
            return Some(short);
        }
    }
    for (prov, cities) in CITIES {
        if cities.iter().any(|c| s.starts_with(c)) {
            return Some(prov);
        }
    }
    None
}

/// Detects the province from a fact description: first from the name of the procuratorate or court
/// (`XX市XX区人民检察院指控` — where the case is tried, which is what sets local thresholds), then from
/// the first place name in the text. Returns the short name and the evidence.
pub fn detect(fact: &str) -> Option<(&'static str, String)> {
    for marker in ["人民检察院", "人民法院", "检察院", "公安局"] {
        if let Some(pos) = fact.find(marker) {
            // The organ's name: back to the previous sentence boundary.
            let head = &fact[..pos];
            let start = head.rfind(['。', '，', '；', '\n', '：', '、']).map(|i| i + head[i..].chars().next().map_or(1, char::len_utf8)).unwrap_or(0);
            let organ = &fact[start..pos];
            for (i, _) in organ.char_indices() {
                if let Some(p) = province_at(&organ[i..]) {
                    return Some((p, format!("{organ}{marker}")));
                }
            }
        }
    }
    for (i, _) in fact.char_indices() {
        let rest = &fact[i..];
        if let Some(p) = province_at(rest) {
            // A place name is followed by an administrative suffix, which avoids reading 安康 in 健康.
            let tail: String = rest.chars().take(12).collect();
            if tail.contains('省') || tail.contains('市') || tail.contains('区') || tail.contains('县') || tail.contains('州') || tail.contains('盟') {
                return Some((p, tail));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_full_names() {
        assert_eq!(normalize("北京市"), Some("北京"));
        assert_eq!(normalize("内蒙古自治区"), Some("内蒙古"));
        assert_eq!(normalize("广西壮族自治区"), Some("广西"));
        assert_eq!(normalize("广东"), Some("广东"));
        assert_eq!(normalize(" 浙江省 "), Some("浙江"));
        assert_eq!(normalize("火星"), None);
        assert_eq!(normalize(""), None);
    }

    #[test]
    fn every_province_has_a_unique_short_name() {
        let mut s: Vec<&str> = PROVINCES.iter().map(|(s, _)| *s).collect();
        s.sort();
        s.dedup();
        assert_eq!(s.len(), PROVINCES.len());
        assert!(CITIES.iter().all(|(p, _)| PROVINCES.iter().any(|(s, _)| s == p)));
    }

    #[test]
    fn detects_from_the_procuratorate() {
        let f = "北京市通州区人民检察院指控：2011年9月8日，被告人李某到内蒙古自治区兴安盟某派出所投案自首。";
        assert_eq!(detect(f).map(|x| x.0), Some("北京"));
        let f = "盐城市亭湖区人民检察院指控：2016年2月17日，被告人应某在盐城市亭湖区建军西路……";
        assert_eq!(detect(f).map(|x| x.0), Some("江苏"));
        let f = "公诉机关广州市天河区人民检察院指控，被告人……";
        assert_eq!(detect(f).map(|x| x.0), Some("广东"));
    }

    #[test]
    fn falls_back_to_place_names() {
        assert_eq!(detect("经审理查明：被告人在杭州市西湖区某小区盗窃。").map(|x| x.0), Some("浙江"));
        assert_eq!(detect("被告人为了身体健康而锻炼。"), None);
        assert_eq!(detect(""), None);
    }
}
