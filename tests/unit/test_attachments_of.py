"""The files of a received mail: found whatever case or encoding their name is written in."""

from __future__ import annotations

from bot.mail.compose import attachments_of

PLAIN = b"From: a@members.example\r\nSubject: Agree\r\n\r\nAgree\r\n"

WITH_FILE = (
    b"From: a@members.example\r\nSubject: Notes\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
    b"--b\r\nContent-Type: text/plain\r\n\r\nMy notes attached.\r\n"
    b"--b\r\nContent-Type: application/pdf\r\n"
    b"CONTENT-DISPOSITION: ATTACHMENT; FILENAME*=utf-8''r%C3%A9sum%C3%A9.pdf\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n"
)


def test_a_file_named_in_upper_case_rfc_2231_is_found() -> None:
    [found] = attachments_of(WITH_FILE)
    assert (found.filename, found.content, found.mime_type) == (
        "résumé.pdf",
        b"%PDF-1.4\n",
        "application/pdf",
    )


def test_a_mail_without_files_has_none() -> None:
    assert attachments_of(PLAIN) == []
