-- Expenses per month, employee, category and department.
SELECT date_trunc('month', x.expense_date::timestamp)::date AS month,
       x.employee_id,
       COALESCE(NULLIF(x.category, ''), 'Uncategorized') AS category,
       COALESCE(NULLIF(x.department, ''), 'Unassigned') AS department,
       sum(COALESCE(x.amount, 0)) AS amount,
       count(*) AS expense_count
FROM canonical_expenses x
WHERE (%(all)s OR (x.expense_date >= %(lo)s AND x.expense_date < %(hi)s
       AND date_trunc('month', x.expense_date::timestamp)::date = ANY(%(months)s::date[])))
GROUP BY 1, 2, 3, 4
