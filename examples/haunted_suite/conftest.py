# Empty on purpose: pytest puts the folder of a conftest.py that is not in a package on
# sys.path, so the tests can import cloudcost on every pytest (the pythonpath ini option
# needs pytest 7).
