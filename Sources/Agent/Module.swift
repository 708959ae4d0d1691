// Module Agent: see DESIGN.md section 1.
