from queryreview.cli import main

main()
