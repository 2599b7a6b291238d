"""Target orders: the difference to the broker's position, computed when the order is sent."""

from __future__ import annotations

import pytest

from plugins.orders import Order, OrderAction, OrderSide
from webhook.execute.targets import order_for_target


def target(position: float) -> Order:
    return Order(symbol="ES", action=OrderAction.TARGET, target_position=position,
                 client_order_id="01TARGET")


@pytest.mark.parametrize(("wanted", "held", "action", "side", "quantity"), [
    (3, 0, OrderAction.OPEN, OrderSide.BUY, 3),
    (3, 1, OrderAction.OPEN, OrderSide.BUY, 2),
    (3, 5, OrderAction.CLOSE, OrderSide.SELL, 2),
    (3, -2, OrderAction.REVERSE, OrderSide.BUY, 3),
    (-2, 0, OrderAction.OPEN, OrderSide.SELL, 2),
    (-2, -3, OrderAction.CLOSE, OrderSide.BUY, 1),
    (-2, 1, OrderAction.REVERSE, OrderSide.SELL, 2),
    (0, 1.5, OrderAction.CLOSE, OrderSide.SELL, None),
    (0, -2, OrderAction.CLOSE, OrderSide.BUY, None),
])
def test_the_order_sent_is_the_difference_to_the_position(
    wanted: float, held: float, action: OrderAction, side: OrderSide, quantity: float | None
) -> None:
    order = order_for_target(target(wanted), held)

    assert order is not None
    assert (order.action, order.side, order.quantity) == (action, side, quantity)
    assert order.target_position is None
    assert order.client_order_id == "01TARGET"


@pytest.mark.parametrize(("wanted", "held"), [(3, 3), (0, 0), (-2, -2), (0.3, 0.1 + 0.2)])
def test_nothing_is_sent_when_the_position_is_there(wanted: float, held: float) -> None:
    assert order_for_target(target(wanted), held) is None


def test_a_target_takes_no_side_quantity_or_bracket() -> None:
    with pytest.raises(ValueError, match="a target order takes no quantity"):
        Order(symbol="ES", action=OrderAction.TARGET, target_position=1, quantity=1)
    with pytest.raises(ValueError, match="target_position is required"):
        Order(symbol="ES", action=OrderAction.TARGET)
    with pytest.raises(ValueError, match="goes only with action target"):
        Order(symbol="ES", side=OrderSide.BUY, quantity=1, target_position=1)
