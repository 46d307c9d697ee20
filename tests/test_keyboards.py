from handlers.callbacks import RegCb
from handlers.keyboards import Keyboard


def labels(keyboard: Keyboard) -> list[list[str]]:
    return [[b.text for b in row] for row in keyboard.as_markup().inline_keyboard]


def test_adjust_repeats_the_last_width_like_aiogram() -> None:
    keyboard = Keyboard()
    for name in "abcdefg":
        keyboard.button(text=name, callback_data=RegCb(step="x", value=name))
    keyboard.adjust(3, 2)
    assert labels(keyboard) == [["a", "b", "c"], ["d", "e"], ["f", "g"]]
    assert keyboard.as_markup().inline_keyboard[0][0].callback_data == "reg:x:a"


def test_default_is_one_button_per_row() -> None:
    keyboard = Keyboard().button(text="x", callback_data="d").button(text="y", callback_data="e")
    assert labels(keyboard) == [["x"], ["y"]]
