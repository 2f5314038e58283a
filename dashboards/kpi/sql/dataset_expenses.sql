-- Expenses dataset: each expense with its employee by name (the scope: whose expense it is, as monthly_expenses).
SELECT x.id AS expense_id, x.external_id AS expense_number, x.expense_date,
       date_trunc('month', x.expense_date::timestamp)::date AS month,
       COALESCE(NULLIF(x.category, ''), 'Uncategorized') AS category,
       COALESCE(NULLIF(x.department, ''), 'Unassigned') AS department, x.vendor, x.currency,
       x.employee_id, COALESCE(e.name, 'Unassigned') AS employee_name, x.amount,
       x.attributes
FROM canonical_expenses x
LEFT JOIN canonical_employees e ON e.id = x.employee_id
WHERE (%(all)s OR (x.expense_date >= %(lo)s AND x.expense_date < %(hi)s
       AND date_trunc('month', x.expense_date::timestamp)::date = ANY(%(months)s::date[])))
