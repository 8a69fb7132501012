module wayfinder-tokens/templatevectors

go 1.22
