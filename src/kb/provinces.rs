//! The 31 provincial-level divisions of mainland China, by the short names thresholds use.

/// Short names, in the official order.
pub const PROVINCES: [&str; 31] = [
    "北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海", "江苏", "浙江", "安徽", "福建", "江西", "山东",
    "河南", "湖北", "湖南", "广东", "广西", "海南", "重庆", "四川", "贵州", "云南", "西藏", "陕西", "甘肃", "青海", "宁夏", "新疆",
];

/// Normalises a province name (北京市, 广西壮族自治区, 内蒙古自治区, 新疆维吾尔自治区 …) to its short name.
pub fn normalize(name: &str) -> Option<&'static str> {
    let n = name.trim();
    PROVINCES.iter().copied().find(|p| n.starts_with(p))
}

#[cfg(test)]
mod tests {
    #[test]
    fn normalizes_full_names() {
        assert_eq!(super::normalize("广西壮族自治区"), Some("广西"));
        assert_eq!(super::normalize("北京市"), Some("北京"));
        assert_eq!(super::normalize("黑龙江省"), Some("黑龙江"));
        assert_eq!(super::normalize("火星"), None);
    }
}
