"""The officer desk: 转人工 tickets, 差评 回访, 命中测试 (see :class:`DeskService`)."""

from policyqa.desk.service import DeskService

__all__ = ["DeskService"]
