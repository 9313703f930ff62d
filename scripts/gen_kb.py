#!/usr/bin/env python3
"""Generate the long tail of the knowledge base from the statute sources.

Reads (all under --law, i.e. ../shared/law):
  criminal_law.md                   canonical current text (修正案十二), every article 1–452
  criminal_law_lvshu_annotated.md   same text with editorial 【罪名】 tags per paragraph (charge → 款)
  amendments/*.md                   刑法修正案 一–十二: amended_by, in_force and earlier texts
  interpretations/…罪名…            1997 意见 + 补充规定 一–八: official names and abolished (old) names
  crimes.tsv                        the 45 charges written by hand elsewhere (skipped here, but referenced)
and ../shared/data/cail2018/{accu,law}.txt for CAIL alias coverage, and
scripts/curated/charges.jsonl (hand-curated cues/tests, written by another engineer) when present.

Writes (under --out, i.e. knowledge/):
  articles/pN_cM_<chapter>.law      every article, one file per chapter
  charges/pN_cM_<chapter>.law       every charge not in crimes.tsv, with bands, aliases, cues, tests
  elements/generic.law              the generic statutory-wording elements the bands use
and prints a coverage summary (also written to --report as JSON when given).

Deterministic: same inputs → byte-identical outputs. Standard library only.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import re
import sys
from dataclasses import dataclass, field

# ----------------------------------------------------------------------------------------------
# Chinese numerals
# ----------------------------------------------------------------------------------------------
CN_DIGIT = {'零': 0, '〇': 0, '一': 1, '二': 2, '两': 2, '三': 3, '四': 4, '五': 5, '六': 6, '七': 7, '八': 8, '九': 9}
CN_UNIT = {'十': 10, '百': 100, '千': 1000}


def cn2int(s: str) -> int:
    """Chinese numeral up to 千 (also accepts Arabic digits)."""
    if s.isdigit():
        return int(s)
    total, cur = 0, 0
    for ch in s:
        if ch in CN_DIGIT:
            cur = CN_DIGIT[ch]
        elif ch in CN_UNIT:
            total += (cur or 1) * CN_UNIT[ch]
            cur = 0
    return total + cur


CN_NUM = '零〇一二三四五六七八九十百千'
ART_REF = re.compile(r'第([%s]+|\d+)条(?:之([%s]+|\d+))?' % (CN_NUM, CN_NUM))


def art_key(main: str, sub: str | None) -> str:
    n = cn2int(main)
    return f"{n}-{cn2int(sub)}" if sub else f"{n}"


def art_sort_key(k: str):
    a, _, b = k.partition('-')
    return (int(a), int(b or 0))


def art_cn(k: str) -> str:
    """`133-1` → 第133条之一 (the citation form used in sources)."""
    a, _, b = k.partition('-')
    return f"第{a}条" + (f"之{int_to_cn(int(b))}" if b else "")


def int_to_cn(n: int) -> str:
    digits = '零一二三四五六七八九'
    if n < 10:
        return digits[n]
    if n < 20:
        return '十' + (digits[n % 10] if n % 10 else '')
    if n < 100:
        return digits[n // 10] + '十' + (digits[n % 10] if n % 10 else '')
    return str(n)


# ----------------------------------------------------------------------------------------------
# The statute
# ----------------------------------------------------------------------------------------------
ART_LINE = re.compile(r'^第([%s]+)条(?:之([%s]+))?[\s\u3000]+(.*)$' % (CN_NUM, CN_NUM))
ITEM_LINE = re.compile(r'^[（(][一二三四五六七八九十]+[）)]')


@dataclass
class Article:
    key: str
    part: str                      # general | special
    part_no: int                   # 1 总则, 2 分则, 3 附则
    chapter_no: int
    chapter: str                   # "第五章 侵犯财产罪"
    section: str | None            # "第一节 …"
    lines: list[str] = field(default_factory=list)   # paragraphs and items, in order

    @property
    def text(self) -> str:
        return '\n'.join(self.lines)

    def paragraphs(self) -> list[str]:
        """款: an item line （一）… belongs to the paragraph before it."""
        out: list[str] = []
        for ln in self.lines:
            if ITEM_LINE.match(ln) and out:
                out[-1] += '\n' + ln
            else:
                out.append(ln)
        return out


def parse_law(path: str) -> dict[str, Article]:
    arts: dict[str, Article] = {}
    part, part_no, chap, chap_no, sect = 'general', 1, '', 0, None
    cur: Article | None = None
    with open(path, encoding='utf-8') as fh:
        for raw in fh:
            s = raw.strip().strip('\u3000')
            if s.startswith('#'):
                h = s.lstrip('#').strip().replace('\u3000', ' ')
                if h.startswith('第') and '编' in h[:5]:
                    part = 'special' if '分则' in h else 'general'
                    part_no = 2 if part == 'special' else 1
                    chap_no, chap, sect = 0, '', None
                elif h.startswith('第') and '章' in h[:6]:
                    chap = h
                    chap_no = cn2int(h[1:h.index('章')])
                    sect = None
                elif h.startswith('第') and '节' in h[:6]:
                    sect = h
                elif h == '附则':
                    part, part_no, chap, chap_no, sect = 'general', 3, '附则', 0, None
                elif h.startswith('附件'):
                    cur = None          # annexes are lists of repealed acts, not articles
                continue
            if not s or s.startswith('<!--') or s.startswith('---'):
                continue
            m = ART_LINE.match(s)
            if m and part_no >= 1:
                key = art_key(m.group(1), m.group(2))
                cur = Article(key, part, part_no, chap_no, chap, sect, [m.group(3).strip()])
                arts[key] = cur
                continue
            if s.startswith('①'):
                continue                # editorial footnote on effective dates, not statute text
            if cur is not None:
                cur.lines.append(s)
    return arts


TAG = re.compile(r'【([^】]+)】')


def parse_lvshu(path: str, headings: dict[str, list[str]] | None = None) -> dict[str, list[tuple[list[str], str]]]:
    """Article → [(charge tags, paragraph text without tags)] for each line of the annotated copy;
    editorial headings that name no charge (【本章适用的主体范围】) are collected into `headings`."""
    headings = {} if headings is None else headings
    out: dict[str, list[tuple[list[str], str]]] = {}
    cur = None
    in_special = False
    with open(path, encoding='utf-8') as fh:
        for raw in fh:
            s = raw.strip().strip('\u3000').strip()
            if s.startswith('#'):
                if '第二编' in s:
                    in_special = True
                if '附则' in s:
                    in_special = False
                continue
            m = ART_LINE.match(s)
            if m:
                cur = art_key(m.group(1), m.group(2))
                out[cur] = []
                s = m.group(3).strip()
            if cur is None or not s:
                continue
            tags = TAG.findall(s)
            body = TAG.sub('', s).strip()
            # 【行贿罪的处罚规定】: the article that punishes a charge defined elsewhere belongs to that charge
            names = [t[:-len('的处罚规定')] if t.endswith('罪的处罚规定') and not t.startswith('单位犯') else t
                     for t in tags] if in_special else []
            names = [t for t in names if t.endswith('罪')]
            out[cur].append((names, body))
            if in_special:
                headings.setdefault(cur, []).extend(t for t in tags if not t.endswith('罪'))
    return out


def norm(s: str) -> str:
    return re.sub(r'[\s\u3000“”"「」]', '', s).replace(':', '：').replace(',', '，')


# ----------------------------------------------------------------------------------------------
# Amendments
# ----------------------------------------------------------------------------------------------
AMEND_ORDER = ['刑法修正案', '刑法修正案（二）', '刑法修正案（三）', '刑法修正案（四）', '刑法修正案（五）', '刑法修正案（六）',
               '刑法修正案（七）', '刑法修正案（八）', '刑法修正案（九）', '刑法修正案（十）', '刑法修正案（十一）',
               '刑法修正案（十二）']
ITEM_HEAD = re.compile(r'^([一二三四五六七八九十]+)、(.*)$')
DATE_CN = re.compile(r'(\d{4})年(\d{1,2})月(\d{1,2})日')


@dataclass
class AmendEdit:
    amendment: str        # 刑法修正案（八）
    item: int             # 第N条 of the amendment (its numbered item)
    date: str             # effective date YYYY-MM-DD
    article: str          # canonical key
    kind: str             # full | paragraph | add_article | other
    para: int | None      # for kind == paragraph
    text: str | None      # new text (full or paragraph)


def ymd(m) -> str:
    return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"


def quoted_block(s: str) -> str:
    """The quoted new text that follows an instruction: “…” possibly over several paragraphs."""
    paras = []
    for ln in s.split('\n'):
        ln = ln.strip()
        if not ln:
            continue
        if ln.startswith('“'):
            ln = ln[1:]
        if ln.endswith('”'):
            ln = ln[:-1]
            paras.append(ln)
            break
        paras.append(ln)
    return '\n'.join(p for p in paras if p)


def parse_amendments(d: str) -> tuple[list[AmendEdit], dict[str, str]]:
    edits: list[AmendEdit] = []
    dates: dict[str, str] = {}
    files = {}
    for fn in sorted(os.listdir(d)):
        title = fn.split('(')[0].replace('.md', '')
        files[title] = os.path.join(d, fn)
    for name in AMEND_ORDER:
        path = files.get(name)
        if not path:
            continue
        with open(path, encoding='utf-8') as fh:
            src = fh.read()
        body = src.split('<!-- INFO END -->', 1)[-1]
        m = re.search(r'自(\d{4})年(\d{1,2})月(\d{1,2})日起施行', body)
        if m:
            date = ymd(m)
        else:
            # "自公布之日起施行": promulgated on the day of adoption (header line "YYYY年M月D日 … 通过").
            date = ymd(DATE_CN.search(src))
        dates[name] = date
        # split into numbered items; an amendment with a single unnumbered instruction is item 1
        items: list[tuple[int, str]] = []
        cur_no, cur = 1, []
        for ln in body.split('\n'):
            mm = ITEM_HEAD.match(ln.strip())
            if mm:
                if cur:
                    items.append((cur_no, '\n'.join(cur)))
                cur_no, cur = cn2int(mm.group(1)), [mm.group(2)]
            else:
                cur.append(ln)
        if cur:
            items.append((cur_no, '\n'.join(cur)))
        for no, txt in items:
            head = txt.split('“', 1)[0]
            if '施行' in head and '修改' not in head and '增加' not in head:
                continue
            refs = ART_REF.findall(head)
            if not refs:
                continue
            mnew = re.search(r'作为第([%s]+)条之([%s]+)' % (CN_NUM, CN_NUM), head)
            after = txt[len(head):]
            if mnew and '增加一条' in head:
                key = art_key(mnew.group(1), mnew.group(2))
                edits.append(AmendEdit(name, no, date, key, 'add_article', None, quoted_block(after)))
                continue
            key = art_key(*refs[0])
            full = re.search(r'将(?:刑法)?第[%s]+条(?:之[%s]+)?修改为|将该条修改为' % (CN_NUM, CN_NUM), head)
            para = re.search(r'将(?:刑法)?第[%s]+条(?:之[%s]+)?第([%s]+)款修改为' % (CN_NUM, CN_NUM, CN_NUM), head)
            if full and not para:
                edits.append(AmendEdit(name, no, date, key, 'full', None, quoted_block(after)))
            elif para and '增加' not in head and not re.search(r'增加一款|删去|原第[%s]+款' % CN_NUM, after):
                edits.append(AmendEdit(name, no, date, key, 'paragraph', cn2int(para.group(1)),
                                       quoted_block(after)))
            else:
                edits.append(AmendEdit(name, no, date, key, 'other', None, None))
    return edits, dates


# ----------------------------------------------------------------------------------------------
# Charge names: 1997 意见 + 补充规定 (official), cross-checked with the lvshu tags
# ----------------------------------------------------------------------------------------------
def _refs(s: str) -> frozenset:
    """(article, 款) pairs cited in a cell: 第127条第1款、第2款 → {(127,1),(127,2)}; 款 0 = whole article."""
    out = set()
    for m in re.finditer(r'第([%s\d]+)条(?:之([%s\d]+))?((?:(?:第|、第)[%s\d]+款)*)' % ((CN_NUM,) * 3), s):
        key = art_key(m.group(1), m.group(2))
        paras = re.findall(r'第([%s\d]+)款' % CN_NUM, m.group(3))
        if paras:
            out.update((key, cn2int(p)) for p in paras)
        else:
            out.add((key, 0))
    return frozenset(out)


def _split_names(cell: str) -> list[tuple[str, list[str]]]:
    """A 罪名 cell → [(new name, [abolished old names])]; names are separated by a blank or ；after 罪/）, or 、
    between two names (but not inside a name such as …犯罪、恐怖主义犯罪…)."""
    out = []
    segs = re.split(r'(?<=[罪）])\s+(?!（)|[；;]|(?<![犯）])(?<=罪)、(?=[^（]*罪(?:（|$))', cell.strip())
    for seg in segs:
        seg = re.sub(r'\s+', '', seg)
        name, _, cancel = seg.partition('（取消')
        cancel = '取消' + cancel if cancel else ''
        if not name.endswith('罪'):
            continue
        olds = []
        for c in re.findall(r'取消(.+?)(?:罪名|）|$)', cancel):
            c = re.sub(r'^刑法原第\d+条第\d+项', '', c)
            for o in re.split(r'(?<=罪)和', c):
                olds.append(o if o.endswith('罪') else o + '罪')
        out.append((name, olds))
    return out


def _similar(old: str, new: str) -> bool:
    """An unannounced rename keeps (almost) every character of the old name."""
    a = set(old)
    return len(a & set(new)) / len(a) >= 0.85


def official_names(interp_dir: str) -> tuple[set[str], dict[str, list[str]], dict[str, frozenset]]:
    """Current official names and old → new renames, applying 补充规定 一–八 in order.

    A 补充规定 row that names a new charge for exactly the (article, 款) of a 1997 name, without saying
    取消, still replaces it (e.g. 第174条第2款 …许可证罪 → …许可证、批准文件罪 in 补充规定(2002)).
    """
    names: set[str] = set()
    refs_of: dict[str, frozenset] = {}
    renamed: dict[str, list[str]] = collections.defaultdict(list)
    files = sorted(os.listdir(interp_dir))
    for f in (x for x in files if '罪名的意见' in x):
        with open(os.path.join(interp_dir, f), encoding='utf-8') as fh:
            for m in re.finditer(r'([^\s．\d]+罪)（(第\d+条[^）]*)）', fh.read()):
                names.add(m.group(1))
                refs_of[m.group(1)] = _refs(m.group(2))
    order = ['补充规定(', '补充规定（二）', '补充规定（三）', '补充规定（四）', '补充规定（五）', '补充规定（六）',
             '补充规定（七）', '补充规定（八）']
    for tag in order:
        f = next((x for x in files if tag in x), None)
        if not f:
            continue
        with open(os.path.join(interp_dir, f), encoding='utf-8') as fh:
            src = fh.read()
        for m in re.finditer(r'由“([^”]+罪)”修改为“([^”]+罪)”', src):
            names.discard(m.group(1))
            names.add(m.group(2))
            renamed[m.group(1)].append(m.group(2))
        for col1, cell in re.findall(r'^\|([^|\n]*)\|([^|\n]+)\|', src, re.M):
            cell = cell.strip()
            if cell.startswith('罪名') or cell.startswith('-') or cell.startswith('取消'):
                for o in re.findall(r'取消(.+?罪)罪名', cell):
                    names.discard(o)
                continue
            rrefs = _refs(col1.split('（')[0])
            pairs = _split_names(cell)
            news = [n for n, _ in pairs]
            for n, olds in pairs:
                for o in olds:
                    names.discard(o)
                    if o != n and n not in renamed[o]:
                        renamed[o].append(n)
            for n in news:
                names.add(n)
                refs_of.setdefault(n, rrefs)
            if rrefs:
                for old, r in list(refs_of.items()):
                    if old in names and old not in news and r == rrefs and len(news) == 1 \
                            and _similar(old, news[0]):
                        names.discard(old)
                        renamed[old].append(news[0])
    return names, renamed, refs_of


def final_names(name: str, renamed: dict[str, list[str]], seen=None) -> list[str]:
    """Follow renames to the current name(s)."""
    seen = seen or set()
    if name not in renamed or name in seen:
        return [name]
    seen.add(name)
    out = []
    for n in renamed[name]:
        for f in final_names(n, renamed, seen):
            if f not in out:
                out.append(f)
    return out


# ----------------------------------------------------------------------------------------------
# Penalties and conditions
# ----------------------------------------------------------------------------------------------
NUM = '一二三四五六七八九十两'


def years(s: str) -> int:
    return cn2int(s)


@dataclass
class Band:
    text: str
    when: str | None
    penalty: list[str]
    fine: str
    confiscation: str | None
    deprivation: str | None
    like: tuple[str, int] | None
    source: str
    lo: float
    hi: float


COND_RULES: list[tuple[str, str]] = [
    # order matters: the more specific wording first; matched text is removed before the next rule
    (r'[数税]额特别巨大', 'especially_huge_amount'),
    (r'[数税]额巨大', 'huge_amount'),
    (r'[数税]额较大', 'large_amount'),
    (r'数量特别巨大', 'especially_huge_quantity'),
    (r'数量巨大', 'huge_quantity'),
    (r'数量较大', 'large_quantity'),
    (r'情节特别严重|特别严重(?:的)?情节', 'especially_serious'),
    (r'情节严重|严重情节', 'serious'),
    (r'情节特别恶劣|特别恶劣(?:的)?情节', 'especially_bad'),
    (r'情节恶劣|恶劣情节', 'bad_circumstance'),
    (r'后果特别严重|特别严重(?:的)?后果', 'especially_serious_consequence'),
    (r'后果严重|严重后果', 'serious_consequence'),
    (r'特别重大(?:的)?损失', 'especially_heavy_loss'),
    (r'重大损失', 'heavy_loss'),
    (r'对人体健康造成严重危害|严重损害[^，]{0,6}身体健康', 'health_serious_harm'),
    (r'致人重伤、死亡|致人重伤或者死亡|致人死亡或者重伤|致使[^，]{0,6}重伤、死亡|造成[^，]{0,6}重伤、死亡', '(injury_max >= 重伤 or deaths >= 1)'),
    (r'(?:致|造成|致使)[^，；]{0,12}死亡', 'deaths >= 1'),
    (r'(?:致|造成|致使)[^，、；]{0,6}重伤', 'injury_max >= 重伤'),
    (r'^战时', 'wartime'),
    (r'首要分子', 'ringleader'),
    (r'积极参加', 'active_participant'),
]
AMOUNT_COND = re.compile(r'(?:销售金额|违法所得数额|数额在?|金额)([%s百千]+)万元以上' % NUM)


def parse_condition(txt: str) -> tuple[str | None, str]:
    """Map a band's condition wording to a `when` expression; returns (expr, leftover wording)."""
    rest = txt
    parts: list[str] = []
    m = AMOUNT_COND.search(rest)
    if m:
        parts.append(f"amount_yuan >= {cn2int(m.group(1))} wan")
        rest = rest[:m.start()] + rest[m.end():]
    for pat, expr in COND_RULES:
        hit = re.search(pat, rest)
        if hit:
            rest = re.sub(pat, '', rest)
            if ('deaths' in expr or 'injury_max' in expr) and re.search(r'多人|多名|[二三四五六七八九十]人以上', hit.group(0)):
                continue    # a count of victims ("致使多人重伤"): not one person's injury
            if expr not in parts:
                parts.append(expr)
    if not parts:
        return None, txt
    return (' or '.join(parts) if len(parts) > 1 else parts[0]), rest


PEN_TERM = re.compile(
    r'(?P<lo>[%s]+)年以上(?P<hi>[%s]+)年以下有期徒刑|(?P<only_hi>[%s]+)年以下有期徒刑|'
    r'(?P<only_lo>[%s]+)年以上有期徒刑|(?P<mhi>[%s]+)个月以下有期徒刑|(?<![上下])(?P<exact>[%s]+)年有期徒刑' % ((NUM,) * 6))


def parse_penalty(seg: str):
    """Principal and accessory penalties of one clause "处…". None when the clause has no principal penalty."""
    pen: list[str] = []
    lo, hi = float('inf'), float('-inf')
    for m in PEN_TERM.finditer(seg):
        if m.group('lo'):
            a, b = years(m.group('lo')) * 12, years(m.group('hi')) * 12
        elif m.group('only_hi'):
            a, b = 6, years(m.group('only_hi')) * 12      # 刑法第45条: 有期徒刑 at least six months
        elif m.group('only_lo'):
            a, b = years(m.group('only_lo')) * 12, 180     # 刑法第45条: at most fifteen years
        elif m.group('mhi'):
            a, b = 6, years(m.group('mhi'))
        else:
            a = b = years(m.group('exact')) * 12
        pen.append(f"imprisonment {fmt_months(a)}..{fmt_months(b)}")
        lo, hi = min(lo, a), max(hi, b)
    body = re.sub(r'(并处|可以并处|单处)[^，；。]*', '', seg)
    if '拘役' in body:
        pen.append('detention')
        lo, hi = min(lo, 1), max(hi, 6)
    if '管制' in body:
        pen.append('surveillance')
        lo, hi = min(lo, 3), max(hi, 24)
    if '无期徒刑' in body:
        pen.append('life')
        hi = max(hi, 181)
        lo = min(lo, 180)            # life follows directly on the 15-year maximum
    if '死刑' in body:
        pen.append('death')
        hi = max(hi, 181)            # life and death both sit above the 15-year maximum (刑法第45条)
        lo = min(lo, 181)
    deprivation = None
    if re.search(r'(或者|、)剥夺政治权利', body):
        deprivation = 'optional'
    elif re.search(r'并处剥夺政治权利', seg):
        deprivation = 'required'
    if pen and re.search(r'(?:或者|、)罚金', body):
        pen.append('fine_only')      # 罚金 as an alternative principal penalty (…管制或者罚金)
        lo = 0
    if not pen and re.search(r'^处罚金|，处罚金', seg):
        pen.append('fine_only')
        lo, hi = 0, 0
    if not pen:
        return None
    fine = 'none'
    if 'fine_only' in pen:
        fine = 'optional'
    elif re.search(r'并处或者单处[^，；。]*罚金', seg):
        fine = 'optional'
    elif re.search(r'可以并处[^，；。]*罚金', seg):
        fine = 'optional'
    elif re.search(r'并处[^，；。或]*罚金', seg):
        fine = 'required'
    elif re.search(r'并处没收财产或者罚金|并处罚金或者没收财产', seg):
        fine = 'optional'
    conf = None
    if re.search(r'并处罚金或者没收财产|并处没收财产或者罚金|可以并处没收财产|并处[^，；。]*罚金或者没收财产', seg):
        conf = 'optional'
    elif re.search(r'并处没收财产', seg):
        conf = 'required'
    if fine == 'none' and re.search(r'并处罚金或者没收财产', seg):
        fine = 'optional'
    return pen, fine, conf, deprivation, lo, hi


def fmt_months(m: float) -> str:
    m = int(m)
    return f"{m // 12}y" if m % 12 == 0 else f"{m}m"


CLAUSE_SPLIT = re.compile(r'[；。]')
# "…的，处…" / "…的，对单位判处罚金，并对其直接负责的主管人员和其他直接责任人员，处…"
CLAUSE_PEN = re.compile(r'(?:的|者|首要分子)，(?:并?对[^；。]*?，)?(?:处|判处)(?!罚金)')


# ----------------------------------------------------------------------------------------------
# Output helpers
# ----------------------------------------------------------------------------------------------
def q(s: str) -> str:
    return '"' + s.replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n') + '"'


def raw(s: str) -> str:
    assert '"""' not in s
    return 'r"""' + s + '"""'


def chapter_file(a: Article) -> str:
    if a.part_no == 3:
        return 'p3_附则.law'
    title = a.chapter.split(' ', 1)[-1].strip() if ' ' in a.chapter else a.chapter
    title = re.sub(r'[\\/:*?"<>|（）() ]', '', title)
    return f"p{a.part_no}_c{a.chapter_no}_{title}.law"


def chapter_label(a: Article) -> str:
    return a.chapter + (f" {a.section}" if a.section else '')


# ----------------------------------------------------------------------------------------------
# Charges
# ----------------------------------------------------------------------------------------------
@dataclass
class ChargeDef:
    name: str
    places: list[tuple[str, int]] = field(default_factory=list)   # (article, 0-based 款 index)
    aliases: list[str] = field(default_factory=list)
    bands: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def articles(self) -> list[str]:
        out = []
        for a, _ in self.places:
            if a not in out:
                out.append(a)
        return out


def line_to_para(lines: list[str]) -> list[int]:
    idx, out = -1, []
    for ln in lines:
        if not (ITEM_LINE.match(ln) and idx >= 0):
            idx += 1
        out.append(idx)
    return out


def canonical_charge(tag: str, official: set[str], renamed: dict[str, list[str]]) -> str | None:
    """A lvshu 【】 tag → the official current name (None: an editorial tag that is not a charge)."""
    if tag in official:
        return tag
    fin = final_names(tag, renamed)
    if len(fin) == 1 and fin[0] in official:
        return fin[0]
    if tag.replace('帐', '账') in official:
        return tag.replace('帐', '账')
    if tag.startswith('特殊形式的'):
        return tag[len('特殊形式的'):]
    if tag.endswith('犯罪'):
        # 【斡旋受贿犯罪】 (第388条): a form of the charge whose name ends the tag
        core = tag[:-2]
        cands = sorted((n for n in official if core.endswith(n[:-1]) and len(n) > 2), key=len, reverse=True)
        return cands[0] if cands else None
    return tag


def loose(s: str) -> str:
    """Spelling-insensitive key: punctuation dropped, 帐/账 and 剌/刺 unified."""
    return re.sub(r'[、，（）()\s]', '', s).replace('帐', '账').replace('剌', '刺')


CAIL_BRACKET = re.compile(r'[\[\]]')



# Generic legal wording: never a cue on its own.
GENERIC_WORDS = ['违反', '规定', '国家', '情节', '严重', '数额', '较大', '巨大', '特别', '处罚', '有期徒刑', '拘役', '管制',
                 '罚金', '没收', '财产', '以上', '以下', '或者', '其他', '造成', '后果', '损失', '重大', '直接', '责任', '人员',
                 '单位', '主管', '负责', '有关', '依照', '前款', '本法', '下列', '情形', '之一', '行为', '犯罪', '公共', '安全',
                 '利益', '遭受', '致使', '工作', '非法', '故意', '明知', '他人', '公私', '社会', '秩序', '管理', '法规', '危害']


CHUNK_SPLIT = re.compile(r'[，。；：、（）“”\s]|或者|以及|并且|而且|其他|以外|的|(?<!共)和(?!国)|与|等|或|并')
LEAD_PREP = re.compile(r'^(?:在|对|向|将|把|为|从|以|使|由|于|用|被|其|有|是|者|进行|实施)+')


def act_chunks(act: str) -> list[str]:
    out = []
    for ch in CHUNK_SPLIT.split(act):
        ch = LEAD_PREP.sub('', ch.strip())
        if 2 <= len(ch) <= 10 and ch not in out:
            out.append(ch)
    return out


def derive_cues(name: str, act: str, df: collections.Counter, others: list[str]) -> list[tuple[str, float]]:
    """Cues derived from the charge name and the distinctive phrases of its act description (statute wording);
    a phrase that names another charge (`others`: their names without 罪) is left to that charge."""
    cues: list[tuple[str, float]] = []
    core = name[:-1]
    if len(core) <= 12:
        cues.append((re.escape(core).replace('、', '、?'), 3.0))
    else:
        # long names list several acts/objects: the atoms that are not generic words are cues of their own
        atoms = [x for x in re.split(r'[、，]', core) if len(x) >= 4 and x not in GENERIC_WORDS
                 and not any(x in o for o in others)]
        if atoms:
            cues.append(('|'.join(re.escape(x) for x in atoms[:8]), 1.5))
    picked: list[str] = []
    cands = sorted(((df[ch], -len(ch), i, ch) for i, ch in enumerate(act_chunks(act))
                    if not all(w in GENERIC_WORDS for w in re.findall('..', ch)) and ch not in GENERIC_WORDS
                    and df[ch] <= 3 and len(ch) >= 3 and not any(ch in o or o in ch for o in others)
                    and not re.search(r'规定|前款|第[一二三四五]款|第[^，]*条|本法|其他|行为|有期徒刑|拘役|管制|罚金', ch)),
                   key=lambda x: x)
    for _, _, _, ch in cands:
        if any(ch in p or p in ch for p in picked) or ch == core:
            continue
        picked.append(ch)
        if len(picked) == 6:
            break
    if picked:
        cues.append(('|'.join(re.escape(p) for p in picked), 2.0))
    return cues


def derive_anti(name: str, all_names: list[str]) -> list[tuple[str, float]]:
    """Anti-cues from the names of more specific charges that contain this one's name: 叛逃罪 ← 军人叛逃罪 (anti
    "军人…叛逃"), 招摇撞骗罪 ← 冒充军人招摇撞骗罪, 决水罪 ← 过失决水罪, 故意泄露国家秘密罪 ← 过失泄露国家秘密罪."""
    core = name[:-1]
    out: list[tuple[str, float]] = []
    for other in sorted(all_names):
        oc = other[:-1]
        if other == name:
            continue
        key = core[2:] if core.startswith('故意') else core
        if len(key) < 2 or key not in oc or oc == key:
            continue
        pre, _, post = oc.partition(key)
        extra = pre if len(pre) >= 2 else post
        if len(extra) < 2 or '、' in extra:
            continue
        pat = re.escape(extra) + '.{0,12}' + re.escape(key) if extra == pre else re.escape(key) + '.{0,12}' + re.escape(extra)
        if (pat, 1.5) not in out:
            out.append((pat, 1.5))
    return out[:4]


def act_of(clause: str) -> str:
    return CLAUSE_PEN.split(clause)[0]


def chunk_df(texts: list[str]) -> collections.Counter:
    """In how many act descriptions each phrase occurs (as a substring)."""
    chunks = {ch for t in texts for ch in act_chunks(t)}
    df: collections.Counter = collections.Counter()
    for ch in chunks:
        df[ch] = sum(1 for t in texts if ch in t)
    return df


SUBJECT = re.compile(r'^(?!为|在|以|对|违反|明知|因|将|向)((?:[^。；]{0,60}?)(?:工作人员|从业人员|人员|军人|负责人|领导人|管理人|所有人|'
                     r'经营者|纳税人|提供者|董事、监事、高级管理人员|扣缴义务人|受益人|翻译人|代理人))，')
SUBJECT_NOCOMMA = re.compile(r'^(?!为|在|以|对|违反|明知|因|将|向)([^。；，]{2,30}?(?:工作人员|人员|军人))(?=对|利用|在|违反|滥用|徇私|私自|故意)')
UNIT_SUBJECT = re.compile(r'^(?!为|在|以|对|违反|明知|因|将|向)([^。；，]{2,40}?(?:公司、企业|企业|单位|部门|机构))，')


def name_fact(name: str, act: str) -> str | None:
    """Fallback fact when the article's wording is shared or too long: the charge name read as an act
    (故意泄露国家秘密) plus the article's closing condition (情节严重 / 造成严重后果 …). Only when the name starts
    with a word of the article's act, so that it reads as the statute's own act."""
    core = name[:-1]
    if len(core) < 4 or core[:2] not in act:
        return None
    tail = ''
    m = re.search(r'((?:情节|数额|后果)[^，、或]{2,6}|(?:造成|致使)[^，]{2,24})$', act)
    if m:
        tail = '，' + m.group(1)
    return f"经审理查明，被告人张某{core}{tail}。"


def derived_fact(act: str, items: list[str]) -> str | None:
    """A short fact built from the statute's act description; None when it would not read as a case.

    Only the first alternative of the act is used (…的，或者…), and "有下列情形之一" takes the first item."""
    act = re.split(r'的，或者', act)[0]
    if re.search(r'下列(?:情形|行为)之一', act):
        if not items:
            return None
        first = re.sub(r'^[（(][一二三四五六七八九十]+[）)]', '', items[0]).rstrip('；;。的')
        act = re.sub(r'[，,]?有下列(?:情形|行为)之一[，,]?', '，', act).strip('，') + '，' + first
        act = act.strip('，')
    act = act.rstrip('的').strip('，')
    if len(act) > 110 or len(act) < 4 or re.match(r'^(?:情节|数额|后果|造成|致使)', act):
        return None
    if re.search(r'前款|前两款|本条|本节|本章|第[%s]+[条款]|上述|单位犯|有前|犯前|依照' % CN_NUM, act):
        return None
    m = SUBJECT.match(act)
    if m and m.end() < len(act):
        subj, rest = m.group(1), act[m.end():]
        return f"经审理查明，被告人张某系{subj}，{rest}。"
    m = SUBJECT_NOCOMMA.match(act)
    if m:
        return f"经审理查明，被告人张某系{m.group(1)}，{act[m.end():]}。"
    m = UNIT_SUBJECT.match(act)
    if m and m.end() < len(act):
        # a unit's offence is tried through its 直接负责的主管人员 (刑法第31条)
        return f"经审理查明，被告人张某系{m.group(1)}直接负责的主管人员，{act[m.end():]}。"
    if re.match(r'^[^，]{2,30}(?:公司、企业|单位|部门|机构)[^，]{0,4}(?:向|将|对|不)', act):
        return None
    return f"经审理查明，被告人张某{act}。"


# ----------------------------------------------------------------------------------------------
# Bands
# ----------------------------------------------------------------------------------------------
ROLE_RULES = [
    (r'^组织、领导|首要分子|^组织者', 'ringleader'),
    (r'积极参加', 'active_participant'),
]
AMOUNT_COND = re.compile(r'(?:销售金额|违法所得数额|数额在?|金额)([%s百千]+)万元以上' % NUM)


def split_clauses(first_line: str) -> list[tuple[str, str]]:
    """Verbatim clauses with a penalty: [(condition/act wording, verbatim clause)]."""
    out = []
    for clause in CLAUSE_SPLIT.split(first_line):
        clause_v = clause.strip().rstrip('：:')
        if not clause_v:
            continue
        m = CLAUSE_PEN.search(clause_v)
        if not m:
            if re.match(r'^(?:并处|可以并处|单处)', clause_v) and out:
                out[-1] = (out[-1][0], out[-1][1] + '；' + clause_v)
            continue
        out.append((clause_v[:m.start()], clause_v))
    return out


def bigrams(s: str) -> set[str]:
    return {s[i:i + 2] for i in range(len(s) - 1)}


def own_clauses(text: str, charge: str, co: list[str]) -> set[str] | None:
    """When one paragraph defines several charges in separate clauses (第333条: 非法组织卖血 / 强迫卖血),
    the act clauses that belong to `charge` (best name overlap); None when all clauses are shared."""
    if len(co) < 2:
        return None
    acts = [(cond, cl) for i, (cond, cl) in enumerate(split_clauses(text.split('\n')[0]))
            if i == 0 or (parse_condition(cond)[0] is None and not re.search(r'情节较轻|下列情形之一|^对|其他参加|其他参与|积极参加|首要分子', cond))]
    if len(acts) < 2:
        return None
    owner = {}
    for cond, cl in acts:
        scores = sorted(((len(bigrams(n[:-1]) & bigrams(cond)), n) for n in co), key=lambda x: (-x[0], co.index(x[1])))
        owner[cl] = scores[0][1]
    mine = {cl for cl, n in owner.items() if n == charge}
    if not mine:
        return None
    return {cl for cl in owner if cl not in mine}


def para_bands(text: str, first_is_base: bool, exclude: set[str] | None = None):
    """Bands of one paragraph (dicts) and the clauses whose condition could not be mapped.

    The statute's first clause is the base band; a 情节较轻 clause is a lighter band that overrides the base;
    when the remaining clauses are not in ascending order (组织、领导… / 积极参加… / 其他参加…) the lightest
    is the residual base and the others are role bands. A clause "有下列情形之一的" takes the items of the
    paragraph as its condition (those that map to the vocabulary)."""
    lines = text.split('\n')
    first_line, items = lines[0], lines[1:]
    if re.search(r'依照下列规定处罚[：:]?$', first_line) and items:
        # 第153条 / 第383条: "根据情节轻重，分别依照下列规定处罚：（一）…的，处…（二）…" — each item is a band
        stripped = [re.sub(r'^[（(][一二三四五六七八九十]+[）)]', '', it) for it in items]
        first_line, items = '；'.join(s.rstrip('。；') for s in stripped), []
    clauses = [x for x in split_clauses(first_line) if not exclude or x[1] not in exclude]
    bands, unparsed = [], []
    for i, (cond, clause) in enumerate(clauses):
        p = parse_penalty(clause[len(cond):])
        if p is None:
            unparsed.append(clause)
            continue
        pen, fine, conf, dep, lo, hi = p
        bands.append(dict(text=clause, cond=cond, penalty=pen, fine=fine, conf=conf, dep=dep, lo=lo, hi=hi,
                          statute_pos=i, when=None, like=None, lesser=bool(re.search(r'情节较轻', cond))))
    if not bands:
        return [], unparsed
    # the act the paragraph punishes: the first clause's wording before any role split ("，对首要分子…")
    act = re.split(r'，对(?:首要分子|积极参加|其他参加|组织者|直接负责)', clauses[0][0])[0] if clauses else ''
    for b in bands:
        b['act'], b['items'] = act, items
    main = [b for b in bands if not b['lesser']]
    role_structured = bool(main) and any(x['lo'] > y['lo'] for x, y in zip(main, main[1:]))
    base = min(main, key=lambda b: (b['lo'], b['hi'])) if role_structured else (main[0] if main else None)
    kept = []
    for b in bands:
        if b is base and first_is_base:
            kept.append(b)
            continue
        expr = None
        if b['lesser']:
            expr = 'lesser_circumstance'
        elif role_structured:
            head = re.split(r'，(?:判)?处', b['text'])[0]
            roles = [e for pat, e in ROLE_RULES if re.search(pat, head) or re.search(pat, b['cond'])]
            if roles:
                expr = ' or '.join(roles)
        if expr is None and re.search(r'下列情形之一|下列行为之一', b['cond']) and items:
            exprs = []
            for it in items:
                ex, _ = parse_condition(it)
                if ex and ex not in exprs:
                    exprs.append(ex)
            if exprs:
                expr = ' or '.join(exprs)
                b['note'] = 'condition: only the listed items that map to the element vocabulary'
        if expr is None:
            expr, _ = parse_condition(b['cond'])
        if expr is None:
            unparsed.append(b['text'])
            continue
        b['when'] = expr
        kept.append(b)
    if not first_is_base:
        # a paragraph that aggravates another ("战时犯前款罪的，处…；情节特别严重的，处…"): its later clauses
        # hold only together with its first condition
        lead = next((b for b in kept if b['statute_pos'] == 0), None)
        for b in kept:
            if lead is not None and b is not lead and b['when'] and lead['when']:
                b['when'] = f"({lead['when']}) and ({b['when']})"
    return kept, unparsed


def refer_target(text: str, art: str, pidx: int) -> tuple[str, int] | tuple[str, None] | None:
    """'依照前款/第一款/本法第X条的规定处罚' → (article, 款 index or None for the whole article)."""
    m = re.search(r'依照(前款|第([一二三四五])款|本法第([%s]+)条(?:之([%s]+))?|第([%s]+)条(?:之([%s]+))?)(?:的)?规定(?:定罪)?(?:从重|酌情)?处罚'
                  % ((CN_NUM,) * 4), text)
    if not m:
        return None
    if m.group(1) == '前款':
        return art, pidx - 1
    if m.group(2):
        return art, cn2int(m.group(2)) - 1
    if m.group(3):
        return art_key(m.group(3), m.group(4)), None
    return art_key(m.group(5), m.group(6)), None


# ----------------------------------------------------------------------------------------------
# Generic elements (knowledge/elements/generic.law)
# ----------------------------------------------------------------------------------------------
GENERIC_ELEMENTS = [
    # name, label, cues (statute wording as courts repeat it in fact descriptions), negate
    ('serious', '情节严重', [r'情节(?:较为|十分)?严重', r'严重情节'], [r'情节(?:特别|显著轻微|较轻|轻微)', r'不属于情节严重']),
    ('especially_serious', '情节特别严重', [r'情节特别严重', r'特别严重情节'], [r'不属于情节特别严重']),
    ('bad_circumstance', '情节恶劣', [r'情节(?:十分|较为)?恶劣', r'恶劣情节'], [r'情节特别恶劣', r'不属于情节恶劣']),
    ('especially_bad', '情节特别恶劣', [r'情节特别恶劣', r'特别恶劣情节'], [r'不属于情节特别恶劣']),
    ('large_amount', '数额较大', [r'数额较大'], [r'数额(?:巨大|特别巨大)']),
    ('huge_amount', '数额巨大', [r'数额巨大'], [r'数额特别巨大', r'尚未达到数额巨大']),
    ('especially_huge_amount', '数额特别巨大', [r'数额特别巨大'], [r'尚未达到数额特别巨大']),
    ('large_quantity', '数量较大', [r'数量较大'], [r'数量(?:巨大|特别巨大)']),
    ('huge_quantity', '数量巨大', [r'数量巨大'], [r'数量特别巨大']),
    ('especially_huge_quantity', '数量特别巨大', [r'数量特别巨大'], []),
    ('serious_consequence', '后果严重', [r'后果严重', r'造成严重后果', r'严重后果'], [r'后果特别严重', r'未造成严重后果']),
    ('especially_serious_consequence', '后果特别严重', [r'后果特别严重', r'特别严重(?:的)?后果'], []),
    ('causes_serious_injury', '致人重伤', [r'致(?:人|其|被害人)?.{0,4}重伤'], [r'未(?:致|造成).{0,4}重伤']),
    ('causes_death', '致人死亡', [r'致(?:人|其|被害人).{0,4}死亡', r'抢救无效死亡'], [r'未(?:致|造成).{0,4}死亡']),
    ('heavy_loss', '重大损失', [r'重大(?:经济)?损失'], [r'特别重大损失', r'未造成重大损失']),
    ('especially_heavy_loss', '特别重大损失', [r'特别重大(?:经济)?损失'], []),
    ('wartime', '战时', [r'战时', r'(?:部队|军队)(?:执行|受领)(?:作战|戒严)任务', r'处置突发性暴力事件'], [r'非战时']),
    ('ringleader', '首要分子 / 组织者、领导者', [r'首要分子', r'(?:组织者|领导者)', r'起组织、(?:领导|策划、指挥)作用'],
     [r'不(?:是|属于|认定为?)首要分子']),
    ('active_participant', '积极参加者', [r'积极参加(?:者)?', r'积极参与'], [r'一般参加者', r'其他参加者']),
]


def write_generic(out_dir: str) -> str:
    lines = ['# GENERATED by scripts/gen_kb.py — do not edit by hand; rerun the script.',
             '# Generic statutory wording (情节严重, 数额巨大 …) used by the bands parsed from article text.',
             '# Cues are the statute wording as judgments repeat it; the legal meaning of each phrase for a given',
             '# charge is fixed by that charge\'s interpretations (see knowledge/crimes/ for the charges that have them).',
             '']
    for name, label, cues, negs in GENERIC_ELEMENTS:
        lines.append(f'element {name} bool {{')
        lines.append(f'  label {q(label)}')
        for c in cues:
            lines.append(f'  cue {q(c)}')
        for n in negs:
            lines.append(f'  negate {q(n)}')
        lines.append(f'  note "statutory wording of the special part (刑法分则); bands generated from article text use it"')
        lines.append('}')
        lines.append('')
    os.makedirs(os.path.join(out_dir, 'elements'), exist_ok=True)
    path = os.path.join(out_dir, 'elements', 'generic.law')
    with open(path, 'w', encoding='utf-8') as fh:
        fh.write('\n'.join(lines))
    return path


# ----------------------------------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------------------------------
def read_crimes_tsv(path: str) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = collections.OrderedDict()
    with open(path, encoding='utf-8') as fh:
        header = fh.readline().rstrip('\n').split('\t')
        for ln in fh:
            row = dict(zip(header, ln.rstrip('\n').split('\t')))
            out.setdefault(row['charge'], []).append(row)
    return out


# Negligent offences (过失犯罪, 刑法第15条): by doctrine, the charges whose official names say 过失, 失火, 肇事,
# 事故, 失职, 玩忽职守 or 重大失实 are negligent. The guideline treats them differently (老年人 过失犯罪 三(二);
# 重大灾害期间 does not apply), so such a charge `implies negligent_offence`. A lawyer should review this
# name-based classification (docs/LONG_TAIL.md).
NEGLIGENT_MARKS = ('过失', '失火', '肇事', '事故', '失职', '玩忽职守', '重大失实')
# Charges whose victim's age or status is a constituent element: the guideline's 犯罪对象为弱势人员 (三(十四))
# must not count it again, so they `implies victim_status_constituent`.
VICTIM_STATUS_CHARGES = (
    '拐卖妇女、儿童罪', '收买被拐卖的妇女、儿童罪', '拐骗儿童罪', '组织残疾人、儿童乞讨罪', '组织未成年人进行违反治安管理活动罪',
    '雇用童工从事危重劳动罪', '负有照护职责人员性侵罪', '引诱未成年人聚众淫乱罪', '向未成年人传播淫秽物品罪', '虐待被监护、看护人罪',
    '聚众阻碍解救被收买的妇女、儿童罪', '不解救被拐卖、绑架妇女、儿童罪', '阻碍解救被拐卖、绑架妇女、儿童罪',
)


def implied_lines(name: str) -> list[str]:
    out = []
    if any(m in name for m in NEGLIGENT_MARKS) and '不报、谎报' not in name:
        out.append('  implies negligent_offence   # 过失犯罪 (by the charge name; see NEGLIGENT_MARKS in scripts/gen_kb.py)')
    if name in VICTIM_STATUS_CHARGES:
        out.append('  implies victim_status_constituent   # the victim\'s status is an element of the charge')
    return out


def read_curated(path: str) -> dict[str, dict]:
    out: dict[str, dict] = {}
    if not os.path.exists(path):
        return out
    with open(path, encoding='utf-8') as fh:
        for ln in fh:
            ln = ln.strip()
            if not ln:
                continue
            try:
                d = json.loads(ln)
            except json.JSONDecodeError:
                continue            # a line being written concurrently; picked up on the next run
            if isinstance(d, dict) and d.get('charge'):
                out[d['charge']] = d
    return out


def minus_one_day(d: str) -> str:
    import datetime
    return (datetime.date.fromisoformat(d) - datetime.timedelta(days=1)).isoformat()


def chain_problem(bands: list[dict], has_unmapped: bool) -> list[str | None]:
    """Per band: why it does not chain with the band before it (None: it chains)."""
    def span(m):
        return 'life' if m > 180 else fmt_months(m)     # life/death sit above the 180-month maximum
    out: list[str | None] = [None]
    for prev, cur in zip(bands, bands[1:]):
        src = cur.get('source', '')
        if cur['lo'] > prev['hi']:
            why = (f"{src}: the statute's clauses leave {span(prev['hi'])}..{span(cur['lo'])} to a clause "
                   "whose condition is outside the element vocabulary (see the charge's note)") if has_unmapped else \
                  f"{src}: the statute's ranges leave {span(prev['hi'])}..{span(cur['lo'])} uncovered"
            out.append(why)
        elif cur['lo'] < prev['hi']:
            out.append(f"{src}: the statute itself gives overlapping ranges "
                       f"({span(prev['lo'])}..{span(prev['hi'])} and {span(cur['lo'])}..{span(cur['hi'])})")
        else:
            out.append(None)
    return out


def number_bands(bands: list[dict]) -> None:
    """Lightest first: the 情节较轻 band, the base band, then the aggravated bands by range."""
    def rank(b):
        if b.get('lesser'):
            return 0
        return 1 if b['when'] is None else 2
    bands.sort(key=lambda b: (rank(b), b['lo'], b['hi']))
    for i, b in enumerate(bands):
        b['number'] = i + 1
    base = next((b['number'] for b in bands if b['when'] is None), None)
    for b in bands:
        b['overrides'] = [base] if b.get('lesser') and base else []


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--law', default='../shared/law')
    ap.add_argument('--data', default=None, help='CAIL data dir (default: <law>/../data/cail2018)')
    ap.add_argument('--out', default='knowledge')
    ap.add_argument('--curated', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), 'curated',
                                                      'charges.jsonl'))
    ap.add_argument('--report', default=None, help='write the coverage summary as JSON here')
    a = ap.parse_args(argv)
    law = a.law
    if not os.path.exists(os.path.join(law, 'criminal_law.md')):
        print(f'gen_kb: {law}/criminal_law.md not found; pass --law pointing at shared/law', file=sys.stderr)
        return 2
    data = a.data or os.path.join(os.path.dirname(os.path.abspath(law)), 'data', 'cail2018')

    arts = parse_law(os.path.join(law, 'criminal_law.md'))
    headings: dict[str, list[str]] = {}
    lv = parse_lvshu(os.path.join(law, 'criminal_law_lvshu_annotated.md'), headings)
    edits, _dates = parse_amendments(os.path.join(law, 'amendments'))
    official, renamed, _refs_of = official_names(os.path.join(law, 'interpretations'))
    crimes45 = read_crimes_tsv(os.path.join(law, 'crimes.tsv'))
    curated = read_curated(a.curated)
    report: dict = collections.OrderedDict()
    problems: list[str] = []

    # ---- charges from the 【罪名】 tags, mapped to official names --------------------------------
    charges: dict[str, ChargeDef] = collections.OrderedDict()
    para_charges: dict[tuple[str, int], list[str]] = collections.defaultdict(list)
    lvshu_spelling: dict[str, str] = {}
    for k in sorted(arts, key=art_sort_key):
        art = arts[k]
        rows = lv.get(k, [])
        if [norm(b) for _, b in rows] != [norm(x) for x in art.lines]:
            if art.part == 'special':
                problems.append(f'article {k}: annotated copy does not align line by line; charges by article only')
        l2p = line_to_para(art.lines)
        for li, (tags, _) in enumerate(rows):
            pidx = l2p[li] if li < len(l2p) else 0
            for t in tags:
                c = canonical_charge(t, official, renamed)
                if c is None:
                    continue
                if c != t:
                    lvshu_spelling[t] = c
                cd = charges.setdefault(c, ChargeDef(c))
                if (k, pidx) not in cd.places:
                    cd.places.append((k, pidx))
                if c not in para_charges[(k, pidx)]:
                    para_charges[(k, pidx)].append(c)
    # the defining article comes first: a paragraph that only says "依照本法第X条的规定定罪处罚" applies the
    # charge elsewhere (第196条第3款 → 盗窃罪) and must not become its primary article
    for cd in charges.values():
        def borrowed(place):
            k, pidx = place
            ps = arts[k].paragraphs()
            t = ps[pidx] if pidx < len(ps) else ''
            return bool(re.search(r'依照本法第[%s]+条(?:之[%s]+)?(?:、第[%s]+条(?:之[%s]+)?)*的规定(?:定罪)?(?:从重)?处罚' % ((CN_NUM,) * 4), t))
        cd.places.sort(key=lambda p: (borrowed(p), art_sort_key(p[0]), p[1]))
    missing_official = sorted(n for n in official if n not in charges and loose(n) not in {loose(c) for c in charges})
    report['official_without_article_text'] = missing_official
    # official spellings that differ only in punctuation/typos become aliases
    by_loose = {loose(c): c for c in charges}
    for n in official:
        if n not in charges and loose(n) in by_loose:
            charges[by_loose[loose(n)]].aliases.append(n)
    for t, c in lvshu_spelling.items():
        if t != c and not t.startswith('特殊形式的'):
            charges[c].aliases.append(t)
    for old in sorted(renamed):
        for new in final_names(old, renamed):
            if new in charges and old != new:
                charges[new].aliases.append(old)

    # ---- CAIL names --------------------------------------------------------------------------
    cail_names: list[str] = []
    cail_articles: list[str] = []
    if os.path.exists(os.path.join(data, 'accu.txt')):
        with open(os.path.join(data, 'accu.txt'), encoding='utf-8') as fh:
            cail_names = [ln.strip() for ln in fh if ln.strip()]
        with open(os.path.join(data, 'law.txt'), encoding='utf-8') as fh:
            cail_articles = [ln.strip() for ln in fh if ln.strip()]
    bracket_forms: dict[str, set[str]] = collections.defaultdict(set)
    train = os.path.join(data, 'train.jsonl')
    if os.path.exists(train):
        with open(train, encoding='utf-8') as fh:
            for ln in fh:
                try:
                    for acc in json.loads(ln)['meta']['accusation']:
                        if '[' in acc:
                            bracket_forms[CAIL_BRACKET.sub('', acc)].add(acc)
                except (json.JSONDecodeError, KeyError, TypeError):
                    continue
    alias_index: dict[str, list[str]] = collections.defaultdict(list)
    for c, cd in charges.items():
        for n in [c] + cd.aliases:
            for key in (n, loose(n)):
                if c not in alias_index[key]:
                    alias_index[key].append(c)
    # a CAIL class named like a 节 of the special part covers every charge of that section
    section_charges: dict[str, list[str]] = collections.defaultdict(list)
    for c, cd in charges.items():
        sect = arts[cd.places[0][0]].section if cd.places else None
        if sect:
            section_charges[loose(sect.split(' ', 1)[-1])].append(c)
    cail_resolution: dict[str, list[str]] = collections.OrderedDict()
    for n in cail_names:
        hit = alias_index.get(n + '罪') or alias_index.get(loose(n + '罪'))
        if not hit:
            hit = section_charges.get(loose(n).replace('制造', '制作') + '罪')
        if not hit and n in CAIL_COMPOSITE:
            hit = [c for c, cd in charges.items() if cd.places and arts[cd.places[0][0]].part == 'special'
                   and arts[cd.places[0][0]].chapter_no == CAIL_COMPOSITE[n]]
        cail_resolution[n] = list(hit or [])
    for n, targets in cail_resolution.items():
        for c in targets:
            if c in charges and c not in crimes45:
                for form in [n] + sorted(bracket_forms.get(n, ())):
                    if form not in charges[c].aliases:
                        charges[c].aliases.append(form)
    report['cail_names'] = len(cail_names)
    report['cail_names_resolved'] = sum(1 for v in cail_resolution.values() if v)
    report['cail_unresolved'] = [n for n, v in cail_resolution.items() if not v]
    report['cail_names_for_crimes_tsv_owners'] = {
        c: sorted([n for n, v in cail_resolution.items() if c in v] +
                  [f for n, v in cail_resolution.items() if c in v for f in bracket_forms.get(n, ())])
        for c in crimes45}
    report['cail_articles'] = len(cail_articles)
    report['cail_articles_missing'] = [x for x in cail_articles if x not in arts]

    # ---- bands --------------------------------------------------------------------------------
    paras = {k: arts[k].paragraphs() for k in arts}

    def first_charge_of(art_k: str, pidx: int | None) -> str | None:
        if pidx is not None:
            cs = para_charges.get((art_k, pidx))
            return cs[0] if cs else None
        for i in range(len(paras.get(art_k, []))):
            cs = para_charges.get((art_k, i))
            if cs:
                return cs[0]
        return None

    pending_like: list[tuple[str, str, int, str]] = []
    unparsed_total: list[str] = []
    for c, cd in charges.items():
        if c in crimes45:
            continue
        have_base = False
        for (k, pidx) in cd.places:
            if pidx >= len(paras[k]):
                continue
            text = paras[k][pidx]
            src = f"刑法{art_cn(k)}" + (f"第{int_to_cn(pidx + 1)}款" if len(paras[k]) > 1 else '')
            bands, unparsed = para_bands(text, first_is_base=not have_base,
                                         exclude=own_clauses(text, c, para_charges.get((k, pidx), [])))
            if bands:
                for b in bands:
                    b['source'] = src
                    if b['when'] is None:
                        have_base = True
                cd.bands.extend(bands)
            else:
                ref = refer_target(text.split('\n')[0], k, pidx)
                if ref is not None:
                    tgt = first_charge_of(ref[0], ref[1])
                    same = c in (para_charges.get(ref, []) if ref[1] is not None else
                                 [x for i in range(len(paras.get(ref[0], []))) for x in para_charges.get((ref[0], i), [])])
                    if same:
                        tgt = c
                    if tgt and tgt != c and any(p[0] == c for p in pending_like):
                        cd.notes.append(f'{src}: penalty again borrowed from 《{tgt}》 for another subject; bands above apply')
                    elif tgt and tgt != c:
                        pending_like.append((c, tgt, pidx, src))
                        have_base = True
                    elif tgt == c:
                        cd.notes.append(f'{src}: another form of the same charge, punished under the same bands')
                    else:
                        cd.notes.append(f'{src}: penalty refers to {ref[0]} (no charge found there)')
                elif not unparsed:
                    cd.notes.append(f'{src}: no penalty clause in this paragraph (defined or punished elsewhere)')
            for u in unparsed:
                cd.notes.append(f'{src}: clause not mapped to a band (wording outside the generic vocabulary): {u}')
                unparsed_total.append(f'{c} {src}: {u}')
        # untagged paragraphs after the defining one that punish aggravated forms ("犯前款罪，致人重伤的，处…",
        # 第239条第二款) belong to the charge(s) of the nearest tagged paragraph before them
        if cd.places and have_base:
            k0, p0 = cd.places[0]
            for q in range(p0 + 1, len(paras[k0])):
                if para_charges.get((k0, q)):
                    break
                text = paras[k0][q]
                first = text.split('\n')[0]
                if first.startswith('单位犯') or not CLAUSE_PEN.search(first):
                    continue
                src = f"刑法{art_cn(k0)}第{int_to_cn(q + 1)}款"
                bands, unparsed = para_bands(text, first_is_base=False)
                if not any(b['statute_pos'] == 0 for b in bands):
                    cd.notes.append(f'{src}: aggravated form not mapped (its first condition is outside the element '
                                    f'vocabulary): {first}')
                    continue
                seen = {(b['when'], tuple(b['penalty'])) for b in cd.bands}
                for b in bands:
                    if (b['when'], tuple(b['penalty'])) not in seen:
                        b['source'] = src
                        cd.bands.append(b)

    def bands_of(name: str) -> list[dict]:
        if name in charges and charges[name].bands:
            return charges[name].bands
        rows = crimes45.get(name)
        if not rows:
            return []
        out = []
        for r in rows:
            expr = None if int(r['band']) == 1 else parse_condition(r['band_condition'])[0]
            if int(r['band']) > 1 and expr is None:
                break
            p = parse_penalty(r['band_range'] + '，' + r.get('accessory_penalty', ''))
            if p is None:
                break
            pen, fine, conf, dep, lo, hi = p
            out.append(dict(text=None, cond=r['band_condition'], penalty=pen, fine=fine, conf=conf, dep=dep,
                            lo=lo, hi=hi, when=expr, like=None, number=int(r['band'])))
        return out

    # sort and number own bands first, so that `like` can cite numbers
    for c, cd in charges.items():
        if c in crimes45:
            continue
        number_bands(cd.bands)
    for c, tgt, pidx, src in pending_like:
        cd = charges[c]
        tb = bands_of(tgt)
        if not tb:
            cd.notes.append(f'{src}: penalty borrowed from 《{tgt}》, whose bands are not known here')
            continue
        for b in tb:
            nb = dict(b)
            nb.update(text=None, like=(tgt, b['number']), source=src)
            cd.bands.append(nb)
        number_bands(cd.bands)

    # ---- cues and tests -----------------------------------------------------------------------
    act_texts = {}
    first_items: dict[str, list[str]] = {}
    for c, cd in charges.items():
        base = next((b for b in cd.bands if b['when'] is None and b.get('act')), None)
        if base:
            act_texts[c] = base['act']
            first_items[c] = base.get('items') or []
        elif cd.places:
            k, pidx = cd.places[0]
            line = paras[k][pidx].split('\n')[0] if pidx < len(paras[k]) else ''
            act_texts[c] = re.split(r'(?:的)?，依照', act_of(line))[0]
        # wording that points back to the previous paragraph is spelled out from it
        if cd.places and act_texts.get(c):
            k, pidx = cd.places[0]
            prev = paras[k][pidx - 1].split('\n')[0] if 0 < pidx < len(paras[k]) + 1 else ''
            act = act_texts[c]
            if act.startswith('前款所列人员') and prev:
                m = SUBJECT.match(prev)
                if m:
                    act = m.group(1) + act[len('前款所列人员'):]
            if act.startswith('过失犯前款罪') and c.startswith('过失'):
                res = re.search(r'(?:造成|致)[^，]*$', act) or re.search(r'(?:造成|致)[^，；]*(?=的，处)', prev)
                act = c[:-1] + ('，' + res.group(0) if res else '')
            act_texts[c] = act
    df = chunk_df(list(act_texts.values()))

    # ---- write ------------------------------------------------------------------------------
    out = a.out
    for sub in ('articles', 'charges'):
        d = os.path.join(out, sub)
        os.makedirs(d, exist_ok=True)
        for fn in os.listdir(d):
            if fn.endswith('.law'):
                os.remove(os.path.join(d, fn))
    write_generic(out)
    # special-part articles that define no generated charge: say what they are
    art_notes: dict[str, list[str]] = collections.defaultdict(list)
    for k, art in arts.items():
        if art.part != 'special':
            continue
        owners = [c for c, cd in charges.items() if any(pk == k for pk, _ in cd.places)]
        if not owners:
            hs = headings.get(k) or []
            if hs:
                art_notes[k].append('defines no charge of its own: ' + '、'.join(f'【{h}】' for h in hs) +
                                    ' (editorial heading of the annotated copy)')
            elif norm(art.text).strip('（）()') == '删去':
                art_notes[k].append('repealed: the article now reads （删去）; see amended_by and version for what it said')
            else:
                art_notes[k].append('defines no charge of its own: a general provision of its chapter')
        elif all(c in crimes45 for c in owners):
            ps = art.paragraphs()
            if all(re.search(r'依照本法第[%s]+条' % CN_NUM, x) or not CLAUSE_PEN.search(x.split('\n')[0]) for x in ps) \
                    and any(re.search(r'依照本法第[%s]+条' % CN_NUM, x) for x in ps):
                art_notes[k].append('applies ' + '、'.join(owners) + ' (written by hand in knowledge/crimes/)')
    n_versions = write_articles(out, law, arts, edits, report, art_notes)
    stats = write_charges(out, arts, charges, crimes45, curated, act_texts, first_items, df, report)
    report['articles'] = len(arts)
    report['special_part_articles'] = sum(1 for x in arts.values() if x.part == 'special')
    report['article_versions'] = n_versions
    report['charges_total'] = len(charges)
    report['charges_generated'] = stats['charges']
    report['charges_in_crimes_tsv_skipped'] = sorted(c for c in crimes45 if c in charges)
    report['bands'] = stats['bands']
    report['like_bands'] = stats['like_bands']
    report['charges_curated'] = stats['curated']
    report['charges_derived_cues'] = stats['derived']
    report['charges_without_band'] = stats['no_band']
    report['charges_without_test'] = stats['no_test']
    report['tests'] = stats['tests']
    report['unmapped_clauses'] = len(unparsed_total)
    report['unchained_bands'] = stats['unchained']
    report['alignment_problems'] = problems
    known_loose = {loose(c) for c in charges}
    report['curated_unknown_charges'] = sorted(n for n in curated if n not in charges and loose(n) not in known_loose)
    if a.report:
        with open(a.report, 'w', encoding='utf-8') as fh:
            json.dump(report, fh, ensure_ascii=False, indent=1)
    summary = {k: (len(v) if isinstance(v, (list, dict)) else v) for k, v in report.items()}
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    return 0


# CAIL labels that are no official charge and name no section: resolved to a chapter of the special part.
# 经济犯 (an economic offence) is read as 第三章 破坏社会主义市场经济秩序罪 — a lawyer should confirm.
CAIL_COMPOSITE: dict[str, int] = {'经济犯': 3}


def decision_2009(law: str) -> tuple[str | None, list[str]]:
    """Articles changed by the 2009 NPCSC 关于修改部分法律的决定 (cited by 补充规定（六）) and its adoption date."""
    date = None
    with open(os.path.join(law, 'criminal_law.md'), encoding='utf-8') as fh:
        for ln in fh:
            if '关于修改部分法律的决定' in ln:
                m = DATE_CN.search(ln)
                date = ymd(m) if m else None
    keys: list[str] = []
    d = os.path.join(law, 'interpretations')
    for fn in sorted(os.listdir(d)):
        if '补充规定' not in fn:
            continue
        with open(os.path.join(d, fn), encoding='utf-8') as fh:
            for ln in fh:
                if ln.startswith('|') and '关于修改部分法律的决定' in ln:
                    for m in ART_REF.finditer(ln.split('（')[0]):
                        keys.append(art_key(m.group(1), m.group(2)))
    return date, keys


def split_paras(text: str) -> list[str]:
    out: list[str] = []
    for ln in text.split('\n'):
        if ITEM_LINE.match(ln) and out:
            out[-1] += '\n' + ln
        else:
            out.append(ln)
    return out


def reconstruct_after(es: list[AmendEdit], i: int, current: str) -> str | None:
    """The whole text in force after edit i, when every later edit replaced single paragraphs whose
    earlier wording is itself given by an amendment (edit i or before); None otherwise."""
    later = es[i + 1:]
    if not later or any(e.kind != 'paragraph' or not e.text for e in later):
        return None
    paras = split_paras(current)
    for e in later:
        p = e.para - 1
        if p >= len(paras):
            return None
        known = None
        for prev in reversed(es[:i + 1]):
            if prev.kind in ('full', 'add_article') and prev.text:
                pp = split_paras(prev.text)
                known = pp[p] if p < len(pp) else None
                break
            if prev.kind == 'paragraph' and prev.para == e.para and prev.text:
                known = prev.text
                break
            if prev.kind == 'other':
                return None
        if known is None:
            return None
        paras[p] = known
    return '\n'.join(paras)


def write_articles(out: str, law_dir: str, arts: dict[str, Article], edits: list[AmendEdit],
                   report: dict, art_notes: dict[str, list[str]]) -> int:
    """One file per chapter; returns the number of earlier versions written."""
    by_art: dict[str, list[AmendEdit]] = collections.defaultdict(list)
    for e in edits:
        by_art[e.article].append(e)
    d2009, keys2009 = decision_2009(law_dir)
    files: dict[str, list[str]] = collections.OrderedDict()
    n_versions = 0
    mismatched = []
    for k in sorted(arts, key=art_sort_key):
        a = arts[k]
        es = sorted(by_art.get(k, []), key=lambda e: (e.date, AMEND_ORDER.index(e.amendment), e.item))
        fn = chapter_file(a)
        blk = []
        if a.part_no == 3:
            blk.append('# 附则 (after the special part); recorded as part general, the language has no third part')
        blk.append(f'article {k} {{')
        blk.append(f'  part {a.part}')
        blk.append(f'  chapter {q(chapter_label(a))}')
        amended = [f"{e.amendment}第{int_to_cn(e.item)}条" for e in es]
        dates = [e.date for e in es]
        if k in keys2009 and d2009:
            amended.append('全国人民代表大会常务委员会关于修改部分法律的决定(2009)')
            dates.append(d2009)
        in_force = max(dates) if dates else '1997-10-01'
        blk.append(f'  in_force {in_force}')
        blk.append(f'  text {raw(a.text)}')
        for s in amended:
            blk.append(f'  amended_by {q(s)}')
        # earlier texts: a whole-article text given by an amendment is in force until the next change
        for i, e in enumerate(es):
            recon_note = ''
            nxt = dates[i + 1] if i + 1 < len(dates) else None
            text_after = e.text if e.kind in ('full', 'add_article') else None
            if e.kind == 'paragraph' and nxt and nxt > e.date:
                rec = reconstruct_after(es, i, a.text)
                if rec is not None:
                    text_after = rec
                    recon_note = '; later paragraphs as amended by the same or earlier amendments'
            if text_after and nxt and nxt > e.date:
                blk.append('  version {')
                blk.append(f'    from {e.date} to {minus_one_day(nxt)}')
                blk.append(f'    source {q(e.amendment + "第" + int_to_cn(e.item) + "条" + recon_note)}')
                blk.append(f'    text {raw(text_after)}')
                blk.append('  }')
                n_versions += 1
            if e.kind in ('full', 'add_article') and e.text and not nxt and norm(e.text) != norm(a.text):
                mismatched.append(k)
        notes = []
        if es and es[0].kind != 'add_article':
            notes.append('the 1997 original text is not in the sources: no version before ' + es[0].date)
        partial = [e for e in es if e.kind not in ('full', 'add_article')]
        if partial:
            notes.append('changed in part (single paragraphs added, replaced or removed) by ' +
                         '、'.join(sorted({e.amendment for e in partial}, key=AMEND_ORDER.index)) +
                         ': a whole earlier text is given only where the amendments state it')
        notes.extend(art_notes.get(k, []))
        if k in keys2009:
            notes.append('in_force: adoption date of the 2009 决定 from the statute header; its text is not in the sources')
        for n in notes:
            blk.append(f'  note {q(n)}')
        blk.append('}')
        blk.append('')
        files.setdefault(fn, []).extend(blk)
    for fn, blk in files.items():
        with open(os.path.join(out, 'articles', fn), 'w', encoding='utf-8') as fh:
            fh.write('# GENERATED by scripts/gen_kb.py from ../shared/law/criminal_law.md and amendments/ — do not edit.\n')
            fh.write('# text: verbatim current text (修正案十二); version: earlier texts given whole by an amendment.\n\n')
            fh.write('\n'.join(blk))
    report['amendment_text_mismatch'] = mismatched
    return n_versions


def band_lines(b: dict, unchained: str | None) -> list[str]:
    out = [f"  band {b['number']} {{"]
    if b.get('text'):
        out.append(f"    text {q(b['text'])}")
    if b['when']:
        out.append(f"    when {b['when']}")
    if b.get('overrides'):
        out.append('    overrides ' + ', '.join(str(n) for n in b['overrides']))
    if b.get('like'):
        out.append(f"    penalty like {q(b['like'][0])} band {b['like'][1]}")
    else:
        out.append(f"    penalty {', '.join(b['penalty'])}")
    if b['fine'] != 'none':
        out.append(f"    fine {b['fine']}")
    if b.get('conf'):
        out.append(f"    confiscation {b['conf']}")
    if b.get('dep'):
        out.append(f"    deprivation {b['dep']}")
    if unchained:
        out.append(f"    unchained {q(unchained)}")
    if b.get('note'):
        out.append(f"    note {q(b['note'])}")
    out.append(f"    source {q(b['source'])}")
    out.append('  }')
    return out


def test_lines(name: str, fact: str, expect: str, nots: list[str], comment: str | None) -> list[str]:
    out = []
    if comment:
        out.append(f'  # {comment}')
    out.append(f'  test {q(name)} {{')
    out.append(f'    fact {q(fact)}')
    out.append(f'    expect charge {q(expect)}')
    for n in nots:
        out.append(f'    expect not charge {q(n)}')
    out.append('  }')
    return out


def write_charges(out: str, arts: dict[str, Article], charges: dict[str, ChargeDef], crimes45: dict,
                  curated: dict, act_texts: dict, first_items: dict, df: collections.Counter, report: dict) -> dict:
    files: dict[str, list[str]] = collections.OrderedDict()
    stats = collections.Counter()
    no_band, no_test, unchained_list = [], [], []
    known = set(charges)
    order = sorted((c for c in charges if c not in crimes45 and charges[c].places),
                   key=lambda c: (art_sort_key(charges[c].places[0][0]), charges[c].places[0][1], c))
    curated_loose = {loose(k): v for k, v in curated.items()}
    fact_count = collections.Counter(derived_fact(act_texts.get(c, ''), first_items.get(c, [])) for c in order)
    # several charges in the same words (第245条 非法搜查 / 非法侵入住宅): each takes the alternative of the act
    # that shares most wording with its own name
    own_act: dict[str, str] = {}
    for c in order:
        act = act_texts.get(c, '')
        if fact_count[derived_fact(act, first_items.get(c, []))] < 2:
            continue
        alts = [x for x in re.split(r'，或者|或者', act) if x]
        if len(alts) < 2:
            continue
        head = alts[0].rsplit('，', 1)[0] + '，' if '，' in alts[0] else ''
        best = max(range(len(alts)), key=lambda i: (len(bigrams(c[:-1]) & bigrams(alts[i])), -i))
        alt = alts[best] if best == 0 else head + alts[best]
        own_act[c] = alt
    base_facts = {f for f in fact_count if f}
    used_facts = set(base_facts)
    for c in order:
        cd = charges[c]
        prim = arts[cd.places[0][0]]
        fn = chapter_file(prim)
        blk: list[str] = []
        cur = curated.get(c) or curated_loose.get(loose(c))
        blk.append('# cues: ' + ('curated by hand (scripts/curated/charges.jsonl)' if cur else
                                 'derived from the charge name and the article text (not curated)'))
        blk.append(f'charge {q(c)} {{')
        blk.append('  article ' + ', '.join(cd.articles))
        seen = set()
        for al in cd.aliases:
            if al not in seen and al != c:
                seen.add(al)
                blk.append(f'  alias {q(al)}')
        grp = (prim.section or prim.chapter).split(' ', 1)[-1]
        blk.append(f'  group {q(grp)}')
        blk.extend(implied_lines(c))
        if cur:
            blk.append('  curated')
            for cu in cur.get('cues', []):
                blk.append(f"  cue {q(cu['pattern'])} weight {float(cu.get('weight', 1.0)):g}")
            for an in cur.get('anti', []):
                blk.append(f"  anti {q(an['pattern'])} weight {float(an.get('weight', 1.0)):g}")
            stats['curated'] += 1
        else:
            others = [o[:-1] for o in charges if o != c and len(o) > 3]
            for pat, w in derive_cues(c, act_texts.get(c, ''), df, others):
                blk.append(f'  cue {q(pat)} weight {w:g}')
            for pat, w in derive_anti(c, list(charges)):
                blk.append(f'  anti {q(pat)} weight {w:g}')
            stats['derived'] += 1
        for n in cd.notes:
            blk.append(f'  note {q(n)}')
        probs = chain_problem(cd.bands, any('clause not mapped' in n for n in cd.notes))
        for b, p in zip(cd.bands, probs):
            blk.extend(band_lines(b, p))
            stats['bands'] += 1
            if b.get('like'):
                stats['like_bands'] += 1
            if p:
                unchained_list.append(f"{c} band {b['number']}: {p}")
        if not cd.bands:
            no_band.append(c)
        ntests = 0
        if cur:
            for t in cur.get('tests', []):
                if not t.get('fact'):
                    continue
                nots = [n for n in t.get('not', []) if n in known]
                exp = t.get('expect', c)
                if exp not in known:
                    continue
                blk.extend(test_lines(t.get('name', f'{c} {ntests + 1}'), t['fact'], exp, nots, None))
                ntests += 1
        if ntests == 0:
            fact = derived_fact(act_texts.get(c, ''), first_items.get(c, []))
            if fact and fact_count[fact] > 1:
                alt_fact = derived_fact(own_act[c], []) if c in own_act else None
                if alt_fact and alt_fact != fact and alt_fact not in base_facts and \
                        sum(1 for x in own_act.values() if derived_fact(x, []) == alt_fact) == 1:
                    fact = alt_fact
                else:
                    fact = None
                    cd.notes.append('no derived test: the statute describes this act in the same words as another charge')
            if fact and '军人违反职责罪' in (prim.chapter or '') and '军人' not in fact:
                # 第四百二十条: the subject of this chapter is 军人, which the article text leaves implicit.
                fact = fact.replace('被告人张某', '被告人张某系现役军人，', 1)
            if fact:
                blk.extend(test_lines(f'{c[:-1]}：法条所述行为', fact, c, [],
                                      'derived test: the fact restates the act described by the article'))
                ntests += 1
        if ntests == 0:
            fact = name_fact(c, act_texts.get(c, ''))
            if fact and fact not in used_facts:
                blk.extend(test_lines(f'{c[:-1]}：罪名所述行为', fact, c, [],
                                      'derived test: the fact restates the charge name and the article\'s condition'))
                ntests += 1
        if ntests == 0:
            no_test.append(c)
        stats['tests'] += ntests
        stats['charges'] += 1
        blk.append('}')
        blk.append('')
        files.setdefault(fn, []).extend(blk)
    for fn, blk in files.items():
        with open(os.path.join(out, 'charges', fn), 'w', encoding='utf-8') as fh:
            fh.write('# GENERATED by scripts/gen_kb.py from ../shared/law (statute, 罪名 rules, CAIL labels) — do not edit.\n')
            fh.write('# Bands are parsed from the article text; `unchained` explains ranges the statute itself does not chain.\n\n')
            fh.write('\n'.join(blk))
    stats['no_band'] = no_band
    stats['no_test'] = no_test
    stats['unchained'] = unchained_list
    return stats


if __name__ == '__main__':
    sys.exit(main())
