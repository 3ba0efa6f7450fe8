from scheduled.cli import main

main()
