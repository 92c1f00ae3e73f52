"""User-facing Chinese strings of the answer layer, in one place."""

from __future__ import annotations

HOTLINE = "12333"

LEAD = "根据{citation}，相关规定如下："
ALSO_NATIONAL = "全国性的规定见{citation}："
ALSO_OLD = "已被取代的旧版（{year}年）{citation}曾规定（仅供对照，现行规定以上文为准）："
LEAD_OLD = "您问的是已被取代的旧版（{year}年）{citation}，其原文如下（已失效，仅供了解）："
NOW_IN_FORCE = "现行有效的{citation}规定："
LEAD_MULTI = "以下政策条款与您的问题相关："
QUOTE = "“{quote}”（{citation}）"
AMOUNT_NOT_FIXED = ("说明：该条款规定按有关规定执行，文件本身没有写明具体数额或标准；"
                    "具体标准以有关部门的规定为准，可拨打12333咨询。")
CLOSING = "以上内容摘自政策原文，具体办理请以经办机构解释为准。"

REFUSE_DEFAULT = ("抱歉，现有政策文件中没有找到能直接回答您这个问题的规定，"
                  "为避免误导，这里不作推测。")
REFUSE_TOPIC = ("抱歉，已收录的政策文件没有涉及“{topic}”方面的规定，"
                "为避免误导，这里不作推测。")
REFUSE_PLACE = ("抱歉，本服务目前收录的是{have}的政策文件，没有关于“{place}”的规定，"
                "无法据此回答。")
REFUSE_DOCUMENT = ("抱歉，本服务没有收录《{title}》的原文，无法据此回答。")
REFUSE_OFFER = "您可以拨打12333人社服务热线，或点击“转人工”由人工客服为您解答。"

# 问答库 (FAQ) answers
FAQ_LEAD = "【问答库】{question}"

# Chat channel
RELATED_FROM_HEADING = "{heading}有哪些具体措施？"
REFERENCE_LEAD = "上一条回答依据的条款如下："
HANDOFF_REFUSED = ("这个问题暂时无法从政策原文中找到答案，您可以拨打12333人社服务热线，"
                   "或点击“转人工”由人工客服继续为您服务。")
HANDOFF_AVAILABLE = "如需进一步咨询，可拨打12333人社服务热线或点击“转人工”。"
HANDOFF_TICKET = ("已为您转接人工客服，工单号 {ticket}。"
                  "人工客服将查看您之前的对话记录继续为您解答；也可拨打12333人社服务热线。")
