from gittrack.cli.main import main

main()
