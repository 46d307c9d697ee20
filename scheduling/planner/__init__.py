"""The fair-time planner: monthly meeting times across time zones (pure: no Telegram, no
database, no clock; the import contract in pyproject.toml holds it).

Public API (stable; the chat layer calls these)
-----------------------------------------------
Members and rules
    roster.Member(key, city, zone, hours=None, country=None,
                  unavailable_weekdays=frozenset(), unavailable_dates=frozenset())
        key: stable member id (int) or name (str); zone: IANA name; hours: cost.Window or None
        (no stated hours); country: ISO code for public holidays (optional); unavailable
        weekdays (Mon=0) and dates are the member's local ones.
    cost.Window(start_minute, end_minute)   end <= start means the hours run across midnight
    roster.load_roster(path) / roster.parse_roster(lines) -> list[Member]
        CSV `name,city,zone,earliest,latest[,country][,unavailable]`; raises RosterError.
    slots.Rules(weekdays=frozenset({5, 6}), days_zone="UTC", step_minutes=30,
                duration_minutes=90, weeks_of_month=None, avoid_dates=frozenset())
    problem.PlannerSettings(night_cap=3, fairness_slack=5.0, burden_cap_per_meeting=5.0,
                            memory_months=12, penalties=options.Penalties(), ...)

Planning
    month_plan.plan_month(members, rules, month, ledger=None, *, horizon_months=12,
                       settings=None, warm_start=()) -> results.MonthPlan
        month: "YYYY-MM" or months.YearMonth; ledger: {member key: ledger.MemberBurden};
        warm_start: the previous plan's tentative start_utc values (keeps plans stable).
    results.MonthPlan: month, choice (SlotOption), runners_up (up to 2 SlotOption),
        reason (Reason), tentative (TentativeMonth(month, start_utc, end_utc) per later
        month), least_max_burden, budget, groups, members
    results.SlotOption: start_utc, end_utc (aware UTC), rows (LocalRow per city), mean_cost,
        worst_cost, night_members, projected_max_burden, projected_mean_burden,
        night_rule_breaks, tentative
    results.LocalRow: city, zone, local_start, local_end (aware local), members,
        outside_hours, night, unavailable, holiday (member counts), mean_cost
    results.Reason: code + params (translate per code; explain.render_reason gives English)

Burden ledger (the bot persists it; rows are (member key, "YYYY-MM", cost, night))
    ledger.record_meeting(ledger, members, month, start_utc, duration, penalties=None)
        -> new ledger with that month's entry per member (re-recording replaces it)
    ledger.ledger_from_rows(rows) -> ledger;  ledger.BurdenEntry(month, cost, night)

Errors (all PlanningError, each with a one-line human message)
    errors.RosterError(line, reason), errors.RulesError, errors.NoSlotError(month, reason)

Also: explain.render_month/render_table/render_reason (English text), metrics.run_metrics
(benchmark metrics), policies (reference policies), `python -m scheduling.planner` (offline).
"""
