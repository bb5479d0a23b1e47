from tests.contracts.market_orders._helpers import WORKERPOOL, ManageAssetOrderContract


class TestManageWorkerpoolOrder(ManageAssetOrderContract):
    KIND = WORKERPOOL
