"""The SMS gateway interface: the backend is chosen by a setting; tests read the outbox."""

import logging

import pytest

from core import sms


def test_it_records_messages_with_the_test_backend(sms_outbox):
    sms.send_sms("13900001111", "您好")
    assert sms_outbox == [sms.SmsMessage(mobile="13900001111", text="您好")]


def test_it_logs_messages_with_the_mobile_masked(settings, caplog):
    settings.SMS_BACKEND = "core.sms.LoggingBackend"
    with caplog.at_level(logging.INFO, logger="unionportal.sms"):
        sms.send_sms("13900001111", "您好")
    assert "139****1111" in caplog.text and "13900001111" not in caplog.text and "您好" in caplog.text


def test_it_refuses_an_empty_number_or_text():
    with pytest.raises(ValueError):
        sms.send_sms("", "x")
