"""The fixed wording of a certificate, in Vietnamese and English.

The renderer knows nothing about Flask or gettext: the app chooses the locale
and passes it in ``CertificateData.locale``. To add a language, add a dict with
the same keys (tests check every locale has every key) and a date format in
``render._format_date``.
"""

#: Fixed wording per locale. Dates are formatted separately (babel).
LABELS: dict[str, dict[str, str]] = {
    "vi": {
        "programme": "Bình dân học vụ số",
        "title": "GIẤY CHỨNG NHẬN",
        "document_title": "Giấy chứng nhận",
        "certifies": "Chứng nhận",
        "completed": "đã hoàn thành khóa học",
        "completed_on": "Ngày hoàn thành",
        "issued_at": "Nơi cấp",
        "serial": "Số hiệu",
        "code": "Mã xác minh",
        "scan": "Quét mã QR để xác minh",
        "not_printed_title": "Chưa in được: {count} giấy chứng nhận",
        "not_printed_hint": "Tên trên các giấy chứng nhận này có ký tự mà phông chữ của giấy chứng nhận "
                            "không in được. Hãy sửa tên học viên cho đúng như trên căn cước, rồi in lại.",
    },
    "en": {
        "programme": "Digital Literacy for All",
        "title": "CERTIFICATE",
        "document_title": "Certificate",
        "certifies": "This is to certify that",
        "completed": "has completed the course",
        "completed_on": "Completed on",
        "issued_at": "Issued at",
        "serial": "Serial no.",
        "code": "Verification code",
        "scan": "Scan the QR code to verify",
        "not_printed_title": "Not printed: {count} certificate(s)",
        "not_printed_hint": "The names on these certificates have characters the certificate font cannot "
                            "print. Correct the learner's name as on the ID card, then print again.",
    },
}
