HELLO = "hello from libs/greeting"
