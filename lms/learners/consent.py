"""Consent texts, versioned. A text is never edited in place: a change is a new version.

The exact version shown is stored with each consent, so what a person agreed to can
always be shown back to them (Law 91/2025/QH15, Decree 356/2025/NĐ-CP).
"""

LEARNING = "learning"

TEXTS = {
    "learning-2026-01": {
        "purpose": LEARNING,
        "vi": (
            "Tôi đồng ý để nền tảng Bình dân học vụ số lưu và xử lý họ tên, năm sinh, "
            "giới tính, số điện thoại (nếu có), nơi cư trú và kết quả học tập của tôi để "
            "tổ chức học tập, cấp chứng nhận và thống kê số người học theo địa bàn. Dữ liệu "
            "không dùng cho mục đích khác. Tôi có thể xem, tải về, sửa, rút lại sự đồng ý "
            "hoặc yêu cầu xóa dữ liệu của mình bất cứ lúc nào."
        ),
        "en": (
            "I agree that the Digital Literacy for All platform stores and processes my "
            "full name, birth year, sex, phone number (if any), place of residence and "
            "learning results in order to organise my learning, issue certificates and "
            "count learners by locality. The data is not used for any other purpose. I can "
            "see, download and correct my data, withdraw this consent or ask for my data "
            "to be deleted at any time."
        ),
    },
}
CURRENT = {LEARNING: "learning-2026-01"}


def current_text(purpose: str, locale: str) -> tuple[str, str]:
    """(version, text) of the consent currently asked for `purpose`."""
    version = CURRENT[purpose]
    text = TEXTS[version]
    return version, text.get(locale) or text["vi"]
