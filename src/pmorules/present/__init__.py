"""Terminal and Markdown views: analyses, explanations, rules and the recommended mix."""
