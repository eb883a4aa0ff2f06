import pytest

from hudtranslate.asr.text import common_prefix, normalize_chinese, normalize_english, to_simplified


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("我用相機照相,照片都很好看", "我用相机照相，照片都很好看"),
        ("你好嗎?", "你好吗？"),
        ("今天 天气 很好.", "今天天气很好。"),
        ("好好好好好好好好", "好"),
        ("好好学习", "好好学习"),
        ("他一罐很乱\ufffd", "他一罐很乱"),
        ("  ", ""),
        ("价格是3.5元", "价格是3.5元"),
        ("号码是一三九一二三四五六七八", "号码是13912345678"),
        ("二零二五年来了三四个人", "2025年来了三四个人"),
        ("一一检查", "一一检查"),
        ("运动过度的身体不好运动过度的身体不好气体", "运动过度的身体不好气体"),
        ("号码是一二三四一二三四", "号码是12341234"),
        ("谢谢你谢谢你", "谢谢你谢谢你"),
    ],
)
def test_normalize_chinese(raw: str, expected: str) -> None:
    assert normalize_chinese(raw) == expected


def test_to_simplified_keeps_simplified() -> None:
    assert to_simplified("會議室") == "会议室"
    assert to_simplified("会议室") == "会议室"


@pytest.mark.parametrize(("heard", "simplified"), [
    ("要帶著全部家當", "要带着全部家当"),  # the aspect particle, as Whisper writes it
    ("看著我", "看着我"),
    ("睡著了", "睡着了"),
    ("一位著名作家", "一位著名作家"),  # "famous": 著 in Simplified too
    ("效果顯著", "效果显著"),
])
def test_to_simplified_writes_the_particle_zhe_as_simplified_chinese_does(
        heard: str, simplified: str) -> None:
    assert to_simplified(heard) == simplified


@pytest.mark.parametrize(
    ("a", "b", "prefix"),
    [("abc", "abd", "ab"), ("", "abc", ""), ("我们", "我们好", "我们"), ("x", "y", "")],
)
def test_common_prefix(a: str, b: str, prefix: str) -> None:
    assert common_prefix(a, b) == prefix


@pytest.mark.parametrize(("raw", "expected"), [
    # Whisper writes "ten forty-five" as 1045: translated as "1045号平台" (platform 3 lost)
    ("Platform 3 at 1045.", "Platform 3 at 10:45."),
    ("Boarding begins at 920, gate 15.", "Boarding begins at 9:20, gate 15."),
    ("See you at 730 pm", "See you at 7:30 pm"),
    ("It leaves at 1045 a.m. sharp.", "It leaves at 10:45 a.m. sharp."),
    # not a time: a number, a year, an address, minutes over 59, a partial's last word
    ("Room 1045.", "Room 1045."),
    ("Built in 1045.", "Built in 1045."),
    ("We met at 1045 Main Street.", "We met at 1045 Main Street."),
    ("Meet at 1075.", "Meet at 1075."),
    ("Meet at 2530.", "Meet at 2530."),
    ("Meet at 104", "Meet at 104"),
    ("Platform 3 at 10:45.", "Platform 3 at 10:45."),
])
def test_normalize_english_writes_times_said_after_at_with_a_colon(
        raw: str, expected: str) -> None:
    assert normalize_english(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    # English said in listen mode goes through the Mandarin clean-up
    ("Boarding begins at 920 and the gate closes.", "Boarding begins at 920 and the gate closes."),
    ("Boarding begins at 920, the gate closes.", "Boarding begins at 9:20, the gate closes."),
    ("platform 3 at 1045", "platform 3 at 1045"),
    ("我们 at 1045，再见", "我们 at 10:45，再见"),
    ("会议在3号会议室举行。", "会议在3号会议室举行。"),
])
def test_normalize_chinese_writes_english_times_after_at_with_a_colon(
        raw: str, expected: str) -> None:
    assert normalize_chinese(raw) == expected
