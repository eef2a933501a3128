select current_date as calendar_date
