"""The step view's region-level rules (``context.step_view``) are the rules' equations at each region's state.

The phases read a holder's chance to pay from ``view.p_pay[r, public]``: column 0 for residents paid
privately, column 1 for those paid from public funds, whose e-CNY share rises with the region's e-CNY payroll.
"""

from __future__ import annotations

import numpy as np
from conftest import scenario

from model import EcnyModel, rules


def test_payment_chances_are_the_payment_share_rule_by_public_sector_flag():
    model = EcnyModel(scenario(), seed=3, scale=1e6, engine="vectorized")
    b, weeks = model.behaviour, model.step_days / 7.0
    checked = 0
    for _ in model.dates:
        model.step()
        v = model.view
        for public in (0, 1):
            share = rules.ecny_payment_share(v.acceptance, float(public), v.payroll_share, v.interoperable, b)
            np.testing.assert_array_equal(v.p_pay[:, public], rules.pays_probability(share, weeks, b))
            np.testing.assert_array_equal(v.payments[:, public], rules.ecny_payments(share, weeks, b))
        paid = (v.payroll_share > 0) & (v.acceptance > 0)
        if paid.any():
            assert (v.p_pay[paid, 1] > v.p_pay[paid, 0]).all()
            checked += 1
        private = v.payroll_share == 0
        assert (v.p_pay[private, 0] == v.p_pay[private, 1]).all()
    assert checked > 0
