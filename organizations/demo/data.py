"""Reference data of the demo city: real districts, streets and roads, and name pools."""

from dataclasses import dataclass

from organizations.models import OrgKind

DEMO_PASSWORD = "unionportal-demo"
CITY_NAME = "上海市总工会"
CITY_CODE = "310000"


@dataclass(frozen=True)
class District:
    code: str  # GB/T 2260
    name: str
    lat: float  # rough centre, for station coordinates
    lon: float
    roads: tuple[str, ...]
    streets: tuple[str, ...]  # real street (街道) and town (镇) names


DISTRICTS: tuple[District, ...] = (
    District(
        "310101",
        "黄浦区",
        31.231,
        121.484,
        ("南京东路", "西藏中路", "淮海中路", "福州路", "河南中路", "中山南路", "复兴中路"),
        (
            "南京东路街道",
            "外滩街道",
            "瑞金二路街道",
            "打浦桥街道",
            "淮海中路街道",
            "豫园街道",
            "小东门街道",
            "老西门街道",
            "五里桥街道",
            "半淞园路街道",
        ),
    ),
    District(
        "310104",
        "徐汇区",
        31.188,
        121.437,
        ("漕溪北路", "肇嘉浜路", "虹桥路", "龙华中路", "宜山路", "天钥桥路"),
        ("天平路街道", "湖南路街道", "徐家汇街道", "枫林路街道", "漕河泾街道", "华泾镇"),
    ),
    District(
        "310105",
        "长宁区",
        31.220,
        121.424,
        ("长宁路", "延安西路", "天山路", "仙霞路", "中山西路", "愚园路"),
        ("华阳路街道", "江苏路街道", "新华路街道", "天山路街道", "虹桥街道", "新泾镇"),
    ),
    District(
        "310106",
        "静安区",
        31.246,
        121.453,
        ("南京西路", "延安中路", "共和新路", "万航渡路", "北京西路", "汶水路"),
        ("静安寺街道", "南京西路街道", "江宁路街道", "石门二路街道", "曹家渡街道", "彭浦新村街道"),
    ),
    District(
        "310107",
        "普陀区",
        31.249,
        121.397,
        ("曹杨路", "中山北路", "真北路", "金沙江路", "武宁路", "铜川路"),
        ("曹杨新村街道", "长风新村街道", "真如镇街道", "万里街道", "长征镇", "桃浦镇"),
    ),
    District(
        "310109",
        "虹口区",
        31.265,
        121.491,
        ("四川北路", "东大名路", "曲阳路", "大连西路", "广中路", "海宁路"),
        ("欧阳路街道", "曲阳路街道", "广中路街道", "嘉兴路街道", "北外滩街道", "四川北路街道"),
    ),
    District(
        "310110",
        "杨浦区",
        31.283,
        121.526,
        ("四平路", "国定路", "黄兴路", "控江路", "杨树浦路", "长阳路"),
        ("定海路街道", "平凉路街道", "江浦路街道", "控江路街道", "五角场街道", "殷行街道"),
    ),
    District(
        "310112",
        "闵行区",
        31.113,
        121.382,
        ("沪闵路", "七莘路", "莘庄路", "吴中路", "都市路", "虹井路"),
        ("江川路街道", "古美街道", "新虹街道", "莘庄镇", "七宝镇", "梅陇镇"),
    ),
    District(
        "310113",
        "宝山区",
        31.405,
        121.446,
        ("牡丹江路", "友谊路", "沪太路", "长江西路", "共富路", "同济路"),
        ("友谊路街道", "吴淞街道", "张庙街道", "大场镇", "顾村镇", "罗店镇"),
    ),
    District(
        "310114",
        "嘉定区",
        31.375,
        121.265,
        ("博乐路", "城中路", "曹安公路", "墨玉南路", "沪宜公路", "叶城路"),
        ("新成路街道", "真新街道", "嘉定镇街道", "南翔镇", "安亭镇", "江桥镇"),
    ),
    District(
        "310115",
        "浦东新区",
        31.221,
        121.544,
        ("世纪大道", "张杨路", "浦东南路", "陆家嘴环路", "张江路", "川沙路", "人民东路", "东方路"),
        ("陆家嘴街道", "潍坊新村街道", "花木街道", "张江镇", "川沙新镇", "惠南镇"),
    ),
    District(
        "310116",
        "金山区",
        30.742,
        121.342,
        ("卫零路", "龙航路", "蒙山路", "金山大道", "朱泾南圩路"),
        ("石化街道", "朱泾镇", "枫泾镇", "张堰镇", "亭林镇"),
    ),
    District(
        "310117",
        "松江区",
        31.032,
        121.228,
        ("人民北路", "中山中路", "荣乐东路", "谷阳北路", "沪亭北路"),
        ("岳阳街道", "方松街道", "九里亭街道", "泗泾镇", "九亭镇", "洞泾镇"),
    ),
    District(
        "310118",
        "青浦区",
        31.151,
        121.124,
        ("公园路", "城中东路", "淀山湖大道", "华志路", "崧泽大道"),
        ("夏阳街道", "盈浦街道", "香花桥街道", "朱家角镇", "徐泾镇", "赵巷镇"),
    ),
    District(
        "310120",
        "奉贤区",
        30.918,
        121.474,
        ("解放东路", "南亭公路", "望园路", "金海公路", "环城东路"),
        ("南桥镇", "西渡街道", "奉浦街道", "金海街道", "庄行镇", "金汇镇"),
    ),
    District(
        "310151",
        "崇明区",
        31.623,
        121.397,
        ("八一路", "人民路", "东门路", "陈海公路", "翠竹路"),
        ("城桥镇", "堡镇", "陈家镇", "新河镇", "长兴镇"),
    ),
)

# City-level industry (sector) unions with a few grassroots unions of public bodies,
# and one industry federation under the construction & transport union.
INDUSTRY_UNIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("上海市教育工会", "市教育工会", ("上海市申江职业技术学校工会", "上海市浦江实验中学工会")),
    ("上海市卫生健康工会", "市卫健工会", ("上海市申城康复医院工会", "上海市浦江护理院工会")),
    ("上海市建设交通工会", "市建交工会", ("上海申通城市建设集团有限公司工会",)),
    ("上海市金融工会", "市金融工会", ("上海浦江农村商业银行股份有限公司工会",)),
    ("上海市机电工会", "市机电工会", ("上海申江电气集团有限公司工会",)),
)
TAXI_FEDERATION = ("上海市出租汽车行业工会联合会", ("上海申城出租汽车有限公司工会", "上海锦程出租汽车有限公司工会"))

# Parks (园区/开发区总工会) under a district: (district code, name, short name, building union).
PARKS: dict[str, tuple[str, str, str]] = {
    "310115": ("上海张江高科技园区总工会", "张江科学城总工会", "张江人工智能岛楼宇工会"),
    "310104": ("上海漕河泾新兴技术开发区总工会", "漕河泾开发区总工会", "漕河泾开发区科技绿洲楼宇工会"),
    "310112": ("上海莘庄工业区总工会", "莘庄工业区总工会", ""),
}
# Industry federations (行业工会联合会) under a district: (name, industry the member firms share).
DISTRICT_FEDERATIONS: dict[str, tuple[str, str]] = {
    "310115": ("浦东新区快递行业工会联合会", "express"),
    "310106": ("静安区餐饮行业工会联合会", "catering"),
}
# Building unions and regional federations under named streets: street -> [(kind, name, parent name)].
STREET_HUBS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "陆家嘴街道": (
        (OrgKind.BUILDING, "陆家嘴金融城楼宇联合工会", ""),
        (OrgKind.REGIONAL_FEDERATION, "陆家嘴滨江区域性工会联合会", ""),
        (OrgKind.BUILDING, "陆家嘴滨江商务楼宇工会", "陆家嘴滨江区域性工会联合会"),
    ),
    "南京东路街道": (
        (OrgKind.REGIONAL_FEDERATION, "南京路步行街区域性工会联合会", ""),
        (OrgKind.BUILDING, "南京东路商圈楼宇工会", "南京路步行街区域性工会联合会"),
    ),
    "南京西路街道": ((OrgKind.BUILDING, "南京西路商务楼宇联合工会", ""),),
    "徐家汇街道": ((OrgKind.BUILDING, "徐家汇商圈楼宇工会", ""),),
}
# Streets with a union group for platform workers (food-delivery riders join here).
RIDER_STREETS = ("陆家嘴街道", "南京东路街道", "徐家汇街道", "五角场街道")

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦方邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴莫孔汤"
)
GIVEN = (
    "伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀英 霞 平 刚 桂英 华 建华 建国 志强 晓燕 海燕 文 斌 宇 浩 凯 鹏 "
    "晨 琳 婷 雪 颖 佳 俊 欣 昊 倩 蕾 立新 卫东 红梅 春燕 国庆 丽华 玉兰 建军 雯 怡 思远 子涵 梓萱 一鸣 嘉怡 振华 美玲"
).split()
BRAND_CHARS = (
    "华信宏达鑫源恒瑞嘉盛德润佳锦联泰安康明通诚远博汇丰新天海科智创星辰凯晟昊睿和美元光荣昌隆兴旭振立方正中东申沪浦江"
)

# GB/T 4754 section -> (weight in the mix, business phrases)
INDUSTRIES: dict[str, tuple[int, tuple[str, ...]]] = {
    "C": (20, ("精密机械", "电子科技", "汽车零部件", "食品", "新材料", "生物医药", "服饰", "包装印刷")),
    "F": (14, ("商贸", "国际贸易", "百货", "超市", "医药连锁")),
    "I": (12, ("信息技术", "网络科技", "软件", "数据科技", "智能科技")),
    "L": (9, ("企业管理咨询", "人力资源", "商务咨询", "广告")),
    "G": (8, ("物流", "快递服务", "货运", "供应链管理")),
    "H": (8, ("餐饮管理", "酒店管理", "餐饮")),
    "M": (7, ("检测技术", "工程设计", "生物技术研发")),
    "E": (5, ("建设工程", "建筑装饰", "市政工程")),
    "K": (5, ("房地产开发", "物业管理")),
    "J": (3, ("融资租赁", "保险代理")),
    "O": (3, ("家政服务", "汽车维修", "保洁服务")),
    "Q": (2, ("养老服务", "门诊部")),
    "R": (2, ("文化传播", "体育发展")),
    "P": (1, ("职业技能培训",)),
    "N": (1, ("园林绿化", "环境卫生服务")),
}
OWNERSHIP_MIX = (("private", 56), ("foreign", 14), ("state", 10), ("hmt", 7), ("other", 9), ("collective", 4))
# Chance that an enterprise of each size has formed a union: about 70% overall, within the
# 60–90% union formation rate a large Chinese city reports (small firms lag behind).
UNION_CHANCE = {"large": 0.98, "medium": 0.92, "small": 0.8, "micro": 0.55}
GROUP_NAMES = ("生产一部", "生产二部", "研发中心", "销售部", "行政后勤", "质量管理部", "客户服务部", "仓储物流部")
OPENING_HOURS = (
    "周一至周五 8:30-17:00",
    "周一至周五 9:00-17:30，周六 9:00-12:00",
    "周一至周日 9:00-21:00",
)
REST_HOURS = ("全天开放", "每日 7:00-21:00", "每日 6:30-22:00")


@dataclass(frozen=True)
class DemoLogin:
    username: str
    display_name: str
    org: str  # "city", a district code, or a street name under 浦东新区
    role: str
    is_superuser: bool = False
    is_staff: bool = False


DEMO_LOGINS = (
    DemoLogin("admin", "系统管理员", "", "", is_superuser=True, is_staff=True),
    # The city admin may use the (scoped) Django admin; see organizations/admin.py.
    DemoLogin("city", "市总工会管理员", "city", "federation_admin", is_staff=True),
    DemoLogin("pudong", "浦东新区总工会经办人", "310115", "clerk"),
    DemoLogin("huangpu", "黄浦区总工会经办人", "310101", "clerk"),
    DemoLogin("street", "陆家嘴街道总工会经办人", "陆家嘴街道总工会", "clerk"),
    DemoLogin("projects", "市总工会项目专员", "city", "project_officer"),
    # A mediator of the 陆家嘴 street mediation centre (disputes.demo makes the Mediator row).
    DemoLogin("mediator", "陆家嘴街道劳动争议调解中心调解员", "陆家嘴街道总工会", "mediator"),
    DemoLogin("aidofficer", "浦东新区总工会帮扶专员", "310115", "aid_officer"),
)
