from tests.contracts.hub_orders._helpers import WORKERPOOL, ManageAssetOrderContract


class TestManageWorkerpoolOrder(ManageAssetOrderContract):
    KIND = WORKERPOOL
