// Module AgentTesting: see DESIGN.md section 1.
