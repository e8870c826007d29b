"""Django's password rules with messages in Chinese that name the field and say how to fix it.

Django's own zh-hans catalog misses the current wording of the length rule (it shows in
English), and its other messages say what is wrong but not what to do. The rules
themselves are Django's, unchanged.
"""

from django.contrib.auth import password_validation as base
from django.utils.translation import gettext as _


class MinimumLengthValidator(base.MinimumLengthValidator):
    def get_error_message(self):
        return _("密码太短：至少需要 %(min_length)d 个字符，请加长后再试（可用一句好记的话）。") % {
            "min_length": self.min_length
        }

    def get_help_text(self):
        return _("密码至少 %(min_length)d 个字符。") % {"min_length": self.min_length}


class UserAttributeSimilarityValidator(base.UserAttributeSimilarityValidator):
    def get_error_message(self):
        return _("密码与%(verbose_name)s太相似：请换一个与用户名、姓名、邮箱都无关的密码。")

    def get_help_text(self):
        return _("密码不能与用户名、姓名、邮箱相似。")


class CommonPasswordValidator(base.CommonPasswordValidator):
    def get_error_message(self):
        return _("密码太常见，容易被猜中：请换一个不常见的密码。")

    def get_help_text(self):
        return _("密码不能是常见密码。")


class NumericPasswordValidator(base.NumericPasswordValidator):
    def get_error_message(self):
        return _("密码不能全是数字：请加入字母或符号。")

    def get_help_text(self):
        return _("密码不能全是数字。")
