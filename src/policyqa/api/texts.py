"""The HTTP surface's own Chinese strings, in one place (answers' texts live in
policyqa.messages, the widget's in policyqa.ui).

What the public sees of a failure never names a file, path or command: those go to
the log and to officers.
"""

from __future__ import annotations

UNAVAILABLE = "服务暂时不可用，请稍后再试，或拨打12333人社服务热线。"
LOADING = "服务正在启动，请稍候再试。"
FAILED = "服务器内部错误，请稍后再试，或拨打12333人社服务热线。"
NO_FAQ = "问答库服务未启用"
RATE_LIMITED = "请求过于频繁，请稍后再试。"
BAD_FIELDS = "请求格式不正确（{fields}），请检查后重试。"
BAD_JSON = "请求体不是有效的JSON（UTF-8编码、嵌套不过深、数字不过长），请检查后重试。"
TOO_LARGE = "请求内容过大（超过{size}），请精简后重试。"
NO_UPLOADS = "本服务不接收文件上传。"
NO_DOCUMENT = "没有找到文件：{doc}"
NO_ARTICLE = "《{title}》没有第{n}条"
HTTP = {400: "请求格式不正确，请检查后重试。", 404: "没有这个地址。",
        405: "不支持这种请求方式。", 413: "请求内容过大，请精简后重试。"}
