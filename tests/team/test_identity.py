import pytest

from lms.learners.identity import BIRTH_PROVINCE_CODES, NationalIdError, check_national_id, national_id_hash


def test_sixty_three_province_codes_from_ha_noi_to_ca_mau():
    assert len(BIRTH_PROVINCE_CODES) == 63
    assert BIRTH_PROVINCE_CODES["001"] == "Hà Nội" and BIRTH_PROVINCE_CODES["096"] == "Cà Mau"


@pytest.mark.parametrize("number,year,sex", [
    ("001085012345", 1985, "male"),
    ("001185012345", 1985, "female"),
    ("079203000001", 2003, "male"),
    ("096 305 123 456", 2005, "female"),
    ("038-168-000-999", 1968, "female"),
])
def test_valid_numbers(app, number, year, sex):
    assert check_national_id(number, birth_year=year, sex=sex).isdigit()


@pytest.mark.parametrize("number,year,sex,code", [
    ("00108501234", 1985, "male", "national-id-format"),
    ("0010850123456", 1985, "male", "national-id-format"),
    ("00108501234a", 1985, "male", "national-id-format"),
    ("003085012345", 1985, "male", "national-id-province"),  # 003 is not a code
    ("097085012345", 1985, "male", "national-id-province"),
    ("001685012345", 1985, "male", "national-id-century"),
    ("001085012345", 1986, "male", "national-id-year"),
    ("001285012345", 1985, "male", "national-id-year"),  # 2085, not 1985
    ("001085012345", 1985, "female", "national-id-sex"),
])
def test_invalid_numbers_explain_themselves(app, number, year, sex, code):
    with app.test_request_context(headers={"Accept-Language": "vi"}):
        with pytest.raises(NationalIdError) as caught:
            check_national_id(number, birth_year=year, sex=sex)
        assert caught.value.code == code
        assert caught.value.field == "national_id"
        assert caught.value.message and "{" not in caught.value.message


def test_hash_is_keyed_and_stable(app):
    with app.app_context():
        first = national_id_hash("001085012345")
        assert first == national_id_hash("001085012345") and len(first) == 64
        app.config["IDENTITY_HASH_KEY"], old = "another", app.config["IDENTITY_HASH_KEY"]
        try:
            assert national_id_hash("001085012345") != first
        finally:
            app.config["IDENTITY_HASH_KEY"] = old
